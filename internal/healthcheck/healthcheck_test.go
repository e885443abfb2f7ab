package healthcheck

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	if err := Check(context.Background(), srv.URL+"/", 0); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := Check(context.Background(), srv.URL+"/", 0); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("503: got %v, want ErrUnhealthy", err)
	}
	srv.Close()
	if err := Check(context.Background(), srv.URL+"/", 0); err == nil {
		t.Fatal("closed server: no error")
	}
}

func TestLocalURL(t *testing.T) {
	for _, c := range []struct {
		bind string
		want string
	}{
		{"0.0.0.0", "http://127.0.0.1:5440/"},
		{"", "http://127.0.0.1:5440/"},
		{"::", "http://127.0.0.1:5440/"},
		{"10.0.0.7", "http://10.0.0.7:5440/"},
		{"::1", "http://[::1]:5440/"},
	} {
		if got := LocalURL(c.bind, 5440, "/"); got != c.want {
			t.Errorf("LocalURL(%q) = %s, want %s", c.bind, got, c.want)
		}
	}
}
