package sqltext

import (
	"errors"
	"fmt"
	"strconv"
)

// MaxParams is the most parameters a statement may have: both protocols
// count them in 16 bits.
const MaxParams = 65535

// ErrPlaceholder is a malformed placeholder ($0, or a number above
// MaxParams) or a statement with more than MaxParams of them.
var ErrPlaceholder = errors.New("sqltext: bad placeholder")

// Template is a statement with placeholders, ready to be bound to
// parameters any number of times.
type Template struct {
	text  string
	holes []hole
	n     int
}

// hole is one placeholder: its byte range in the text and the (0-based)
// parameter it stands for.
type hole struct {
	start, end int
	param      int
}

// NewTemplate finds the placeholders of sql. With QuestionMark the i-th ?
// is parameter i; with Dollar, $n is parameter n (a number may repeat or be
// skipped; NumParams is the highest).
func NewTemplate(sql string, style Style) (*Template, error) {
	t := &Template{text: sql}
	s := scanner{src: sql, style: style}
	for {
		r, ok := s.next()
		if !ok {
			break
		}
		if r.kind != Placeholder {
			continue
		}
		h := hole{start: r.start, end: r.end, param: len(t.holes)}
		if style == Dollar {
			n, err := strconv.Atoi(sql[r.start+1 : r.end])
			if err != nil || n < 1 || n > MaxParams {
				return nil, fmt.Errorf("%w: %s (parameters are numbered $1 to $%d)", ErrPlaceholder, sql[r.start:r.end], MaxParams)
			}
			h.param = n - 1
		}
		if len(t.holes) == MaxParams {
			return nil, fmt.Errorf("%w: more than %d placeholders", ErrPlaceholder, MaxParams)
		}
		t.holes = append(t.holes, h)
		t.n = max(t.n, h.param+1)
	}
	return t, nil
}

// Text returns the statement as written.
func (t *Template) Text() string { return t.text }

// NumParams is the number of parameters the statement takes.
func (t *Template) NumParams() int { return t.n }

// Bind returns the statement with every placeholder replaced by the
// literal of its parameter (made by the Append functions of this package).
// A literal is set apart by a space where it would otherwise run into the
// text around it (x?, 1?, '?'...), so it always stays one token or one
// parenthesised expression.
func (t *Template) Bind(literals [][]byte) (string, error) {
	if len(literals) != t.n {
		return "", fmt.Errorf("sqltext: the statement takes %d parameters, got %d", t.n, len(literals))
	}
	if len(t.holes) == 0 {
		return t.text, nil
	}
	size := len(t.text)
	for _, h := range t.holes {
		size += len(literals[h.param]) + 2
	}
	out := make([]byte, 0, size)
	prev := 0
	for _, h := range t.holes {
		out = append(out, t.text[prev:h.start]...)
		if h.start > 0 && !isSeparator(t.text[h.start-1]) {
			out = append(out, ' ')
		}
		out = append(out, literals[h.param]...)
		if h.end < len(t.text) && !isSeparator(t.text[h.end]) {
			out = append(out, ' ')
		}
		prev = h.end
	}
	out = append(out, t.text[prev:]...)
	return string(out), nil
}

// isSeparator reports whether a literal may touch c without merging with
// it into another token.
func isSeparator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '(', ')', ',', ';':
		return true
	}
	return false
}
