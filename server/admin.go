package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/horaego/horaedb/internal/units"
	"github.com/horaego/horaedb/query"
	"github.com/horaego/horaedb/server/config"
)

// Upstream's limiter: [limiter] at start-up and POST /admin/block at run
// time set which tables may not be written or read and which kinds of
// requests are refused (query.Limits, enforced by the executor, 403).
// Each node has its own limits; /admin/block changes the node it is sent
// to.

// limitsOf converts [limiter].
func limitsOf(c config.LimiterConfig) query.Limits {
	l := query.Limits{WriteBlock: dedupSorted(c.WriteBlockList), ReadBlock: dedupSorted(c.ReadBlockList)}
	for _, r := range c.Rules {
		addRule(&l, blockRule{Type: r.Type, Content: time.Duration(r.Content)})
	}
	return l
}

// blockRule is a rule as config and /admin/block write it.
type blockRule struct {
	Type    string
	Content time.Duration // QueryRange only
}

// addRule turns r on in l; of several QueryRange rules the shortest wins.
func addRule(l *query.Limits, r blockRule) {
	switch r.Type {
	case config.RuleQueryWithoutPredicate:
		l.NoQueryWithoutPredicate = true
	case config.RuleAnyQuery:
		l.NoQuery = true
	case config.RuleAnyInsert:
		l.NoInsert = true
	case config.RuleQueryRange:
		if l.MaxQueryRange == 0 || r.Content < l.MaxQueryRange {
			l.MaxQueryRange = r.Content
		}
	}
}

// removeRule turns r off in l (QueryRange whatever its content).
func removeRule(l *query.Limits, r blockRule) {
	switch r.Type {
	case config.RuleQueryWithoutPredicate:
		l.NoQueryWithoutPredicate = false
	case config.RuleAnyQuery:
		l.NoQuery = false
	case config.RuleAnyInsert:
		l.NoInsert = false
	case config.RuleQueryRange:
		l.MaxQueryRange = 0
	}
}

// rulesOf lists the rules l has on.
func rulesOf(l query.Limits) []blockRule {
	var out []blockRule
	if l.NoQueryWithoutPredicate {
		out = append(out, blockRule{Type: config.RuleQueryWithoutPredicate})
	}
	if l.NoQuery {
		out = append(out, blockRule{Type: config.RuleAnyQuery})
	}
	if l.NoInsert {
		out = append(out, blockRule{Type: config.RuleAnyInsert})
	}
	if l.MaxQueryRange > 0 {
		out = append(out, blockRule{Type: config.RuleQueryRange, Content: l.MaxQueryRange})
	}
	return out
}

// jsonRule is a rule on the wire: {"type":"QueryRange","content":"1d"}.
type jsonRule struct {
	Type    string `json:"type"`
	Content string `json:"content,omitempty"`
}

// blockRequest is the body of POST /admin/block.
type blockRequest struct {
	Operation      string     `json:"operation"`
	WriteBlockList []string   `json:"write_block_list"`
	ReadBlockList  []string   `json:"read_block_list"`
	BlockRules     []jsonRule `json:"block_rules"`
}

// blockResponse is its answer: the node's limits after the change.
type blockResponse struct {
	WriteBlockList []string   `json:"write_block_list"`
	ReadBlockList  []string   `json:"read_block_list"`
	BlockRules     []jsonRule `json:"block_rules"`
}

// limiter is what /admin/block changes; *query.Executor.
type limiter interface {
	Limits() query.Limits
	SetLimits(query.Limits)
}

// adminBlock is POST /admin/block: operation Add, Set or Remove applied
// to the write and read block lists and the rules, answered with the
// result (lists sorted).
func (a *api) adminBlock(w http.ResponseWriter, r *http.Request) {
	var req blockRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "admin/block: the body is not a block request: "+err.Error())
		return
	}
	rules := make([]blockRule, 0, len(req.BlockRules))
	for i, jr := range req.BlockRules {
		br, err := parseRule(jr)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("admin/block: block_rules[%d]: %v", i, err))
			return
		}
		rules = append(rules, br)
	}
	a.limitsMu.Lock()
	l := a.limiter.Limits()
	switch req.Operation {
	case "Add":
		l.WriteBlock = dedupSorted(append(slices.Clone(l.WriteBlock), req.WriteBlockList...))
		l.ReadBlock = dedupSorted(append(slices.Clone(l.ReadBlock), req.ReadBlockList...))
		for _, br := range rules {
			addRule(&l, br)
		}
	case "Set":
		l = query.Limits{WriteBlock: dedupSorted(req.WriteBlockList), ReadBlock: dedupSorted(req.ReadBlockList)}
		for _, br := range rules {
			addRule(&l, br)
		}
	case "Remove":
		l.WriteBlock = without(l.WriteBlock, req.WriteBlockList)
		l.ReadBlock = without(l.ReadBlock, req.ReadBlockList)
		for _, br := range rules {
			removeRule(&l, br)
		}
	default:
		a.limitsMu.Unlock()
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`admin/block: operation %q: want "Add", "Set" or "Remove"`, req.Operation))
		return
	}
	a.limiter.SetLimits(l)
	a.limitsMu.Unlock()
	a.log.Info("limits changed", "operation", req.Operation, "write_block_list", l.WriteBlock,
		"read_block_list", l.ReadBlock, "rules", len(rulesOf(l)))

	resp := blockResponse{WriteBlockList: nonNil(l.WriteBlock), ReadBlockList: nonNil(l.ReadBlock), BlockRules: []jsonRule{}}
	for _, br := range rulesOf(l) {
		jr := jsonRule{Type: br.Type}
		if br.Type == config.RuleQueryRange {
			jr.Content = units.FormatDuration(br.Content)
		}
		resp.BlockRules = append(resp.BlockRules, jr)
	}
	body, err := json.Marshal(resp)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func parseRule(jr jsonRule) (blockRule, error) {
	switch jr.Type {
	case config.RuleQueryWithoutPredicate, config.RuleAnyQuery, config.RuleAnyInsert:
		return blockRule{Type: jr.Type}, nil
	case config.RuleQueryRange:
		d, err := units.ParseDuration(jr.Content)
		if err != nil || d <= 0 {
			return blockRule{}, fmt.Errorf("QueryRange needs a positive duration as content (e.g. \"1d\"), got %q", jr.Content)
		}
		return blockRule{Type: jr.Type, Content: d}, nil
	}
	return blockRule{}, fmt.Errorf("unknown rule type %q (want %s, %s, %s or %s)", jr.Type,
		config.RuleQueryWithoutPredicate, config.RuleAnyQuery, config.RuleAnyInsert, config.RuleQueryRange)
}

func dedupSorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func without(s, drop []string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(x string) bool { return slices.Contains(drop, x) })
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
