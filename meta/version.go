package meta

import "runtime/debug"

// version is set at link time:
//
//	go build -ldflags "-X github.com/horaego/horaedb/meta.version=v1.0.0" ./cmd/horaemeta
var version string

// Version returns the version of this build: the one set at link time, else
// the main module's version or VCS revision from the build info, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
