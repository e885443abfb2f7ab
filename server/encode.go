package server

import (
	"bufio"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/horaego/horaedb/internal/jsonenc"
)

// The JSON of a query result (POST /sql), as upstream writes it:
//
//	{"rows":[{"<col>":<value>,...},...]}
//
// Each row is an object whose keys are the result's columns in order (a
// column name that repeats appears twice); values as internal/jsonenc
// writes them.

// rowsBufferSize is the size of the buffer rows are written through: the
// response streams out in pieces of this size.
const rowsBufferSize = 32 << 10

// writeRows writes records as the rows of a query result, streaming them
// through a buffer instead of building the whole body first.
func writeRows(w io.Writer, recs []arrow.RecordBatch) error {
	bw := bufio.NewWriterSize(w, rowsBufferSize)
	if _, err := bw.WriteString(`{"rows":[`); err != nil {
		return err
	}
	var (
		row   []byte
		first = true
	)
	for _, rec := range recs {
		ncols := int(rec.NumCols())
		keys := make([][]byte, ncols) // `"name":`
		cols := make([]jsonenc.Appender, ncols)
		for j := range ncols {
			keys[j] = append(jsonenc.String(nil, rec.ColumnName(j)), ':')
			cols[j] = jsonenc.Value(rec.Column(j))
		}
		for i := range int(rec.NumRows()) {
			row = row[:0]
			if !first {
				row = append(row, ',')
			}
			first = false
			row = append(row, '{')
			for j := range ncols {
				if j > 0 {
					row = append(row, ',')
				}
				row = append(row, keys[j]...)
				row = cols[j](row, i)
			}
			row = append(row, '}')
			if _, err := bw.Write(row); err != nil {
				return err
			}
		}
	}
	if _, err := bw.WriteString("]}"); err != nil {
		return err
	}
	return bw.Flush()
}
