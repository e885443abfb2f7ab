//go:build tools

// Package tsbs pins the Time Series Benchmark Suite, whose generator,
// loader and query runner `make bench-tsbs` builds from this module.
package tsbs

import (
	_ "github.com/timescale/tsbs/cmd/tsbs_generate_data"
	_ "github.com/timescale/tsbs/cmd/tsbs_generate_queries"
	_ "github.com/timescale/tsbs/cmd/tsbs_load_influx"
	_ "github.com/timescale/tsbs/cmd/tsbs_run_queries_influx"
)
