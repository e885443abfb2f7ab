package objstore

import (
	"bytes"
	"errors"
	"testing"
)

func TestPageRoundTrip(t *testing.T) {
	h := pageHeader{pageSize: 4096, idx: 7, objSize: 30000, key: "tables/1/sst/2.parquet"}
	data := bytes.Repeat([]byte("x"), 1000)
	buf := encodePage(h, data)
	got, gotData, err := decodePage(buf)
	h.dataLen = len(data)
	if err != nil || got != h || !bytes.Equal(gotData, data) {
		t.Fatalf("decodePage = %+v, %d bytes, %v", got, len(gotData), err)
	}
	if int64(len(buf)) != got.fileLen() {
		t.Fatalf("fileLen %d, file %d", got.fileLen(), len(buf))
	}
	// Every single-bit flip is caught.
	for i := range buf {
		for bit := 0; bit < 8; bit++ {
			buf[i] ^= 1 << bit
			if _, _, err := decodePage(buf); !errors.Is(err, errCorruptPage) {
				t.Fatalf("flip of bit %d of byte %d: %v", bit, i, err)
			}
			buf[i] ^= 1 << bit
		}
	}
	for n := 0; n < len(buf); n++ {
		if _, _, err := decodePage(buf[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

func TestPageFileName(t *testing.T) {
	name := pageFileName("tables/1/sst/2.parquet", 12)
	if len(name) != 3+32+3+5 || name[2] != '/' || !isPageFileName(name[3:]) || name[:2] != name[3:5] {
		t.Fatalf("pageFileName = %q", name)
	}
	for _, bad := range []string{"x.page", "0123456789abcdef0123456789abcdef-x.page", "0123456789abcdef0123456789abcdef-1.page.tmp"} {
		if isPageFileName(bad) {
			t.Errorf("isPageFileName(%q)", bad)
		}
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add(encodePage(pageHeader{pageSize: 4096, idx: 1, objSize: -1, key: "k"}, []byte("data")))
	f.Add([]byte("HDBC\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, data, err := decodePage(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the same bytes.
		if again := encodePage(h, data); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"oss-cn-hangzhou.aliyuncs.com": "https://oss-cn-hangzhou.aliyuncs.com",
		"http://127.0.0.1:9000":        "http://127.0.0.1:9000",
		"http://127.0.0.1:9000/":       "http://127.0.0.1:9000",
		"minio:9000":                   "https://minio:9000",
		" https://s3.amazonaws.com ":   "https://s3.amazonaws.com",
		"HTTP://Example.com":           "http://Example.com",
	} {
		u, err := normalizeEndpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("normalizeEndpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "http://", "http://x/path", "http://u:p@x", "http://x?q=1"} {
		if u, err := normalizeEndpoint(bad); err == nil {
			t.Errorf("normalizeEndpoint(%q) = %v, want an error", bad, u)
		}
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "data": "data/", "/data/": "data/", "a/b": "a/b/", "a/b//": "a/b/"} {
		if got := normalizePrefix(in); got != want {
			t.Errorf("normalizePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
