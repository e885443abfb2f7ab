package config

import (
	"fmt"

	"github.com/horaego/horaedb/internal/units"
)

// Limiter rule types.
const (
	// RuleQueryWithoutPredicate blocks queries without a WHERE clause.
	RuleQueryWithoutPredicate = "QueryWithoutPredicate"
	// RuleAnyQuery blocks every query.
	RuleAnyQuery = "AnyQuery"
	// RuleAnyInsert blocks every insert.
	RuleAnyInsert = "AnyInsert"
	// RuleQueryRange blocks queries whose time range exceeds Content.
	RuleQueryRange = "QueryRange"
)

// LimiterConfig is [limiter]: requests refused by table or by kind. The block
// lists can also be changed at run time through /admin/block.
type LimiterConfig struct {
	// WriteBlockList lists tables that may not be written. Default [].
	WriteBlockList []string `toml:"write_block_list"`
	// ReadBlockList lists tables that may not be read. Default [].
	ReadBlockList []string `toml:"read_block_list"`
	// Rules block kinds of requests. Default [].
	Rules []LimiterRule `toml:"rules"`
}

// LimiterRule is one element of limiter.rules, a tagged list:
//
//	rules = [{type = "AnyInsert"}, {type = "QueryRange", content = "1d"}]
type LimiterRule struct {
	// Type is QueryWithoutPredicate, AnyQuery, AnyInsert or QueryRange.
	Type string `toml:"type"`
	// Content is the longest allowed time range for QueryRange; unused by
	// the other types. No default.
	Content units.Duration `toml:"content,omitzero"`
}

func defaultLimiter() LimiterConfig {
	return LimiterConfig{WriteBlockList: []string{}, ReadBlockList: []string{}, Rules: []LimiterRule{}}
}

func (l *LimiterConfig) check(v *validator, key string) {
	for i, r := range l.Rules {
		k := fmt.Sprintf("%s.rules[%d]", key, i)
		switch r.Type {
		case RuleQueryRange:
			durPositive(v, k+".content", r.Content)
		case RuleQueryWithoutPredicate, RuleAnyQuery, RuleAnyInsert:
			if r.Content != 0 {
				v.add(k+".content", "not allowed for type %s", r.Type)
			}
		default:
			v.oneOf(k+".type", "rule type", r.Type,
				RuleQueryWithoutPredicate, RuleAnyQuery, RuleAnyInsert, RuleQueryRange)
		}
	}
	for i, t := range l.WriteBlockList {
		v.required(fmt.Sprintf("%s.write_block_list[%d]", key, i), t)
	}
	for i, t := range l.ReadBlockList {
		v.required(fmt.Sprintf("%s.read_block_list[%d]", key, i), t)
	}
}
