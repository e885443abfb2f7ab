package parser

import (
	"fmt"
	"strings"
	"testing"
)

// lexCases list the tokens of an input as kind:text@line:column.
var lexCases = []struct {
	in   string
	want string
}{
	{in: "SELECT a, `b c` FROM t;", want: "word:SELECT@1:1 word:a@1:8 ,@1:9 qident:b c@1:11 word:FROM@1:17 word:t@1:22 ;@1:23"},
	{in: "select Foo_1$x", want: "word:select@1:1 word:Foo_1$x@1:8"},
	{in: "`a``b`", want: "qident:a`b@1:1"},
	{in: "中文 名字2", want: "word:中文@1:1 word:名字2@1:4"},
	{in: "'é' x", want: "string:é@1:1 word:x@1:5"},
	{in: `'a''b' "c""d" 'e\'f' "g\"h"`, want: `string:a'b@1:1 string:c"d@1:8 string:e'f@1:15 string:g"h@1:22`},
	{in: `'\0\b\n\r\t\Z\\\%\_\q'`, want: "string:\x00\b\n\r\t\x1a\\\\%\\_q@1:1"},
	{in: "'line1\nline2' x", want: "string:line1\nline2@1:1 word:x@2:8"},
	{in: "1 1.5 .5 1. 1e10 1.5E-3 2e 18446744073709551616", want: "num:1@1:1 num:1.5@1:3 num:.5@1:7 num:1.@1:10 num:1e10@1:13 num:1.5E-3@1:18 num:2@1:25 word:e@1:26 num:18446744073709551616@1:28"},
	{in: "x'0aFF' X'' 0x0A 0xabc 0x1g", want: "hex:0aff@1:1 hex:@1:9 hex:0a@1:13 hex:0abc@1:18 num:0@1:24 word:x1g@1:25"},
	{in: "= != <> < <= > >= + - * / % || :: ( ) .", want: "=@1:1 !=@1:3 <>@1:6 <@1:9 <=@1:11 >@1:14 >=@1:16 +@1:19 -@1:21 *@1:23 /@1:25 %@1:27 ||@1:29 ::@1:32 (@1:35 )@1:37 .@1:39"},
	{in: "a--comment\nb/* block\ncomment */c -- end", want: "word:a@1:1 word:b@2:1 word:c@3:11"},
	{in: "1--1", want: "num:1@1:1"},
	{in: "a-/**/-b", want: "word:a@1:1 -@1:2 -@1:7 word:b@1:8"},
	{in: "\ta\r\n  b", want: "word:a@1:2 word:b@2:3"},
}

func TestLexer(t *testing.T) {
	for _, tc := range lexCases {
		t.Run(tc.in, func(t *testing.T) {
			toks, err := tokenize(nil, tc.in)
			if err != nil {
				t.Fatalf("tokenize: %v", err)
			}
			if last := toks[len(toks)-1]; last.kind != tokEOF {
				t.Fatalf("last token is %v, want EOF", last)
			}
			var got []string
			for _, tok := range toks[:len(toks)-1] {
				got = append(got, fmt.Sprintf("%s@%d:%d", tokenString(tok), tok.pos.Line, tok.pos.Column))
				if tok.end <= tok.pos.Offset || tok.end > len(tc.in) {
					t.Errorf("token %s has bad extent [%d,%d)", tokenString(tok), tok.pos.Offset, tok.end)
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("tokens:\n got: %s\nwant: %s", s, tc.want)
			}
		})
	}
}

func tokenString(t token) string {
	switch t.kind {
	case tokWord:
		return "word:" + t.text
	case tokQuotedIdent:
		return "qident:" + t.text
	case tokString:
		return "string:" + t.text
	case tokNumber:
		return "num:" + t.text
	case tokHex:
		return fmt.Sprintf("hex:%x", t.text)
	}
	return t.text
}

func TestReservedWordsAreQuoted(t *testing.T) {
	for word := range reserved {
		for _, name := range []string{word, strings.ToLower(word)} {
			if got, want := (Ident{Name: name}).String(), "`"+name+"`"; got != want {
				t.Errorf("Ident(%q).String() = %s, want %s", name, got, want)
			}
		}
	}
	for _, name := range []string{"timestamp", "value", "tag", "key", "名字", "_x", "a$b", "Mixed"} {
		if got := (Ident{Name: name}).String(); got != name {
			t.Errorf("Ident(%q).String() = %s, want it bare", name, got)
		}
	}
	for _, name := range []string{"a b", "1a", "a-b", "ſelect", "a`b"} {
		id := Ident{Name: name}
		stmt, err := Parse("SELECT " + id.String())
		if err != nil {
			t.Fatalf("Parse(SELECT %s): %v", id, err)
		}
		if got := stmt.(*Query).Body.(*Select).Items[0].Expr.(*ColumnRef).Column.Name; got != name {
			t.Errorf("%q printed as %s reads back as %q", name, id, got)
		}
	}
}
