package objstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// A disk cache page file holds one page of one object (format in
// docs/diskcache.md):
//
//	0    magic "HDBC"
//	4    version u8 (1), 3 bytes zero
//	8    page size u64: the cache's page size when written
//	16   page index u64: the page covers [index*page size, +data length)
//	24   object size i64: -1 when unknown at write time
//	32   data length u32 (n): page size, or less for the object's last page
//	36   key length u16 (k), 2 bytes zero
//	40   key
//	40+k header checksum u32: CRC-32C of bytes [0, 40+k)
//	44+k data
//	44+k+n block checksums: one u32 CRC-32C per 64 KiB block of the data
//	     (the last block may be shorter)
//
// Integers are little-endian. Block checksums let a read of a few KiB of a
// 2 MiB page read and verify only the blocks it touches. A file is written
// under a temporary name and renamed into place, so a crash leaves whole
// files or *.tmp leftovers; the checksums catch the rest (torn writes
// without fsync, bit rot).
const (
	pageMagic      = "HDBC"
	pageVersion    = 1
	pageFixedLen   = 40
	pageBlockSize  = 64 << 10
	pageFileSuffix = ".page"
)

var (
	crc32c = crc32.MakeTable(crc32.Castagnoli)
	// errCorruptPage is returned for a damaged page file.
	errCorruptPage = errors.New("objstore: corrupt disk cache page")
)

// pageHeader is the metadata of a page file.
type pageHeader struct {
	pageSize int64
	idx      int64
	objSize  int64
	dataLen  int
	key      string
}

func pageBlocks(dataLen int) int { return (dataLen + pageBlockSize - 1) / pageBlockSize }

// headerLen is the length of the header, its checksum included.
func (h *pageHeader) headerLen() int { return pageFixedLen + len(h.key) + 4 }

// fileLen is the length of the page file that h describes.
func (h *pageHeader) fileLen() int64 {
	return int64(h.headerLen() + h.dataLen + 4*pageBlocks(h.dataLen))
}

// encodePage returns the page file for h and data.
func encodePage(h pageHeader, data []byte) []byte {
	h.dataLen = len(data)
	buf := make([]byte, h.fileLen())
	copy(buf, pageMagic)
	buf[4] = pageVersion
	binary.LittleEndian.PutUint64(buf[8:], uint64(h.pageSize))
	binary.LittleEndian.PutUint64(buf[16:], uint64(h.idx))
	binary.LittleEndian.PutUint64(buf[24:], uint64(h.objSize))
	binary.LittleEndian.PutUint32(buf[32:], uint32(len(data)))
	binary.LittleEndian.PutUint16(buf[36:], uint16(len(h.key)))
	n := copy(buf[pageFixedLen:], h.key) + pageFixedLen
	binary.LittleEndian.PutUint32(buf[n:], crc32.Checksum(buf[:n], crc32c))
	n += 4
	n += copy(buf[n:], data)
	for lo := 0; lo < len(data); lo += pageBlockSize {
		binary.LittleEndian.PutUint32(buf[n:], crc32.Checksum(data[lo:min(lo+pageBlockSize, len(data))], crc32c))
		n += 4
	}
	return buf
}

// decodePageHeader parses the header at the start of b (which may hold
// just the header or the whole file).
func decodePageHeader(b []byte) (pageHeader, error) {
	if len(b) < pageFixedLen || string(b[:4]) != pageMagic {
		return pageHeader{}, fmt.Errorf("%w: bad magic", errCorruptPage)
	}
	if b[4] != pageVersion {
		return pageHeader{}, fmt.Errorf("%w: version %d", errCorruptPage, b[4])
	}
	if b[5]|b[6]|b[7]|b[38]|b[39] != 0 {
		return pageHeader{}, fmt.Errorf("%w: reserved bytes set", errCorruptPage)
	}
	keyLen := int(binary.LittleEndian.Uint16(b[36:]))
	n := pageFixedLen + keyLen
	if len(b) < n+4 {
		return pageHeader{}, fmt.Errorf("%w: short header", errCorruptPage)
	}
	if crc32.Checksum(b[:n], crc32c) != binary.LittleEndian.Uint32(b[n:]) {
		return pageHeader{}, fmt.Errorf("%w: header checksum", errCorruptPage)
	}
	h := pageHeader{
		pageSize: int64(binary.LittleEndian.Uint64(b[8:])),
		idx:      int64(binary.LittleEndian.Uint64(b[16:])),
		objSize:  int64(binary.LittleEndian.Uint64(b[24:])),
		dataLen:  int(binary.LittleEndian.Uint32(b[32:])),
		key:      string(b[pageFixedLen:n]),
	}
	if h.pageSize <= 0 || h.idx < 0 || int64(h.dataLen) > h.pageSize || h.objSize < -1 {
		return pageHeader{}, fmt.Errorf("%w: bad header fields", errCorruptPage)
	}
	return h, nil
}

// decodePage parses a whole page file and verifies every checksum.
func decodePage(b []byte) (pageHeader, []byte, error) {
	h, err := decodePageHeader(b)
	if err != nil {
		return h, nil, err
	}
	if int64(len(b)) != h.fileLen() {
		return h, nil, fmt.Errorf("%w: file is %d bytes, header says %d", errCorruptPage, len(b), h.fileLen())
	}
	start := h.headerLen()
	data := b[start : start+h.dataLen]
	if err := verifyBlocks(data, 0, b[start+h.dataLen:]); err != nil {
		return h, nil, err
	}
	return h, data, nil
}

// verifyBlocks checks data, which starts at block first, against sums.
func verifyBlocks(data []byte, first int, sums []byte) error {
	for i, lo := 0, 0; lo < len(data); i, lo = i+1, lo+pageBlockSize {
		want := binary.LittleEndian.Uint32(sums[4*i:])
		if crc32.Checksum(data[lo:min(lo+pageBlockSize, len(data))], crc32c) != want {
			return fmt.Errorf("%w: checksum of block %d", errCorruptPage, first+i)
		}
	}
	return nil
}

// readPageRange reads bytes [lo, hi) of the data of the page file f,
// which must hold page idx of key with dataLen bytes, verifying the header
// and the blocks it reads.
func readPageRange(f io.ReaderAt, key string, idx int64, pageSize int64, dataLen, lo, hi int) ([]byte, error) {
	hlen := pageFixedLen + len(key) + 4
	hdr := make([]byte, hlen)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptPage, err)
	}
	h, err := decodePageHeader(hdr)
	if err != nil {
		return nil, err
	}
	if h.key != key || h.idx != idx || h.dataLen != dataLen || h.pageSize != pageSize {
		return nil, fmt.Errorf("%w: file holds %s page %d", errCorruptPage, h.key, h.idx)
	}
	if lo >= hi {
		return []byte{}, nil
	}
	firstBlock, lastBlock := lo/pageBlockSize, (hi-1)/pageBlockSize
	blockLo, blockHi := firstBlock*pageBlockSize, min((lastBlock+1)*pageBlockSize, dataLen)
	buf := make([]byte, blockHi-blockLo+4*(lastBlock-firstBlock+1))
	data, sums := buf[:blockHi-blockLo], buf[blockHi-blockLo:]
	if _, err := f.ReadAt(data, int64(hlen+blockLo)); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptPage, err)
	}
	if _, err := f.ReadAt(sums, int64(hlen+dataLen+4*firstBlock)); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptPage, err)
	}
	if err := verifyBlocks(data, firstBlock, sums); err != nil {
		return nil, err
	}
	return data[lo-blockLo : hi-blockLo], nil
}

// pageFileName is the path of a page relative to the cache dir:
// <2 hex>/<32 hex>-<index>.page, the hex being SHA-256 of the key. The key
// in the header is checked on every read, so a collision is a miss, never a
// wrong answer.
func pageFileName(key string, idx int64) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:16])
	return h[:2] + "/" + h + "-" + strconv.FormatInt(idx, 10) + pageFileSuffix
}

// isPageFileName reports whether name (a base name) looks like a page file.
func isPageFileName(name string) bool {
	base, ok := strings.CutSuffix(name, pageFileSuffix)
	if !ok || len(base) < 34 || base[32] != '-' {
		return false
	}
	_, err := strconv.ParseUint(base[33:], 10, 63)
	return err == nil
}
