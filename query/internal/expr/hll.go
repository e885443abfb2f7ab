package expr

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/horaego/horaedb/internal/murmur3"
)

var defaultMem = memory.DefaultAllocator

// hllPrecision gives 2^14 registers per group: about 0.8% standard error.
const hllPrecision = 14

// hllAcc estimates the number of distinct values per group with
// HyperLogLog over murmur3 hashes of the values.
type hllAcc struct {
	regs [][]uint8
	buf  []byte
}

func (a *hllAcc) Update(groups []uint32, args []arrow.Array, n, numGroups int) {
	a.regs = grow(a.regs, numGroups)
	for i := 0; i < n; i++ {
		if IsNullAt(args[0], i) {
			continue
		}
		g := groups[i]
		if a.regs[g] == nil {
			a.regs[g] = make([]uint8, 1<<hllPrecision)
		}
		a.buf = appendValueBytes(a.buf[:0], ScalarAt(args[0], i))
		h := murmur3.Hash64(a.buf)
		idx := h >> (64 - hllPrecision)
		rank := uint8(bits.LeadingZeros64(h<<hllPrecision|1<<(hllPrecision-1)) + 1)
		if rank > a.regs[g][idx] {
			a.regs[g][idx] = rank
		}
	}
}

func appendValueBytes(buf []byte, s Scalar) []byte {
	buf = binary.LittleEndian.AppendUint64(buf, uint64(s.I))
	buf = binary.LittleEndian.AppendUint64(buf, s.U)
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(s.F))
	if s.Bool {
		buf = append(buf, 1)
	}
	return append(buf, s.S...)
}

func (a *hllAcc) Result(c *Ctx) arrow.Array {
	out := make([]uint64, len(a.regs))
	const m = float64(1 << hllPrecision)
	alpha := 0.7213 / (1 + 1.079/m)
	for g, regs := range a.regs {
		if regs == nil {
			continue
		}
		sum, zeros := 0.0, 0
		for _, r := range regs {
			sum += math.Ldexp(1, -int(r))
			if r == 0 {
				zeros++
			}
		}
		est := alpha * m * m / sum
		if est <= 2.5*m && zeros > 0 { // small range: linear counting
			est = m * math.Log(m/float64(zeros))
		}
		out[g] = uint64(math.Round(est))
	}
	return newUint64(c, out, nil)
}
