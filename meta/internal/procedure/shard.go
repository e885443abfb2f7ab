package procedure

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/horaego/horaedb/meta/client"
	"github.com/horaego/horaedb/meta/internal/storage"
	"github.com/horaego/horaedb/proto/metapb"
)

// Steps of the shard procedures.
const (
	stepClose = "close" // close the shard on from_node
	stepRaise = "raise" // raise the shard's version, assign it to to_node
	stepOpen  = "open"  // open it on to_node
)

// Origins of procedures.
const (
	OriginGRPC      = "grpc"
	OriginHTTP      = "http"
	OriginScheduler = "scheduler"
)

// OpenShard starts a procedure opening shard on its node (again) at a new
// version.
func (m *Manager) OpenShard(ctx context.Context, shard uint32, node, origin string) (*Handle, error) {
	return m.shardProc(ctx, metapb.ProcedureKind_PROCEDURE_KIND_OPEN_SHARD, &metapb.ShardProcedure{ShardId: shard, ToNode: node}, origin, "")
}

// CloseShard starts a procedure closing shard on node.
func (m *Manager) CloseShard(ctx context.Context, shard uint32, node, origin string) (*Handle, error) {
	return m.shardProc(ctx, metapb.ProcedureKind_PROCEDURE_KIND_CLOSE_SHARD, &metapb.ShardProcedure{ShardId: shard, FromNode: node}, origin, "")
}

// TransferShard starts a procedure moving shard from one node to another:
// close on from (skipped when from is "" or, with skipCloseIfDead, dead),
// assign to to at a new version, open on to. requestID may be "".
func (m *Manager) TransferShard(ctx context.Context, shard uint32, from, to string, skipCloseIfDead bool, origin, requestID string) (*Handle, error) {
	return m.shardProc(ctx, metapb.ProcedureKind_PROCEDURE_KIND_TRANSFER_SHARD,
		&metapb.ShardProcedure{ShardId: shard, FromNode: from, ToNode: to, SkipCloseIfDead: skipCloseIfDead}, origin, requestID)
}

func (m *Manager) shardProc(ctx context.Context, kind metapb.ProcedureKind, s *metapb.ShardProcedure, origin, requestID string) (*Handle, error) {
	owner, _, err := m.c.ShardNode(s.ShardId)
	if err != nil {
		return nil, err
	}
	if s.ToNode != "" {
		alive, ok := m.c.NodeAlive(s.ToNode)
		if !ok {
			return nil, client.Errorf(metapb.Reason_NODE_NOT_FOUND, "node %s is not registered in cluster %s", s.ToNode, m.name)
		}
		if !alive {
			return nil, client.Errorf(metapb.Reason_NODE_DOWN, "node %s is down", s.ToNode)
		}
	}
	if kind == metapb.ProcedureKind_PROCEDURE_KIND_TRANSFER_SHARD && s.FromNode != "" && s.FromNode != owner {
		return nil, client.Errorf(metapb.Reason_INVALID_ARGUMENT, "shard %d is on node %q, not %q", s.ShardId, owner, s.FromNode)
	}
	step := stepRaise
	if kind == metapb.ProcedureKind_PROCEDURE_KIND_CLOSE_SHARD ||
		kind == metapb.ProcedureKind_PROCEDURE_KIND_TRANSFER_SHARD && s.FromNode != "" && s.FromNode != s.ToNode {
		step = stepClose
	}
	rec := &metapb.Procedure{Kind: kind, Step: step, Origin: origin, RequestId: requestID, Body: &metapb.Procedure_Shard{Shard: s}}
	return m.submit(ctx, rec)
}

func (m *Manager) execShard(ctx context.Context, p *proc) error {
	for {
		s := p.rec.GetShard()
		switch p.rec.Step {
		case stepClose:
			if err := m.closeStep(ctx, p, s); err != nil {
				return err
			}
			if p.kind == metapb.ProcedureKind_PROCEDURE_KIND_CLOSE_SHARD {
				m.finish(p)
				return m.save(ctx, p)
			}
			p.rec.Step = stepRaise
		case stepRaise:
			prev := proto.Clone(p.rec).(*metapb.Procedure)
			_, err := m.c.RaiseShard(ctx, s.ShardId, s.ToNode, func(v uint64) []storage.Op {
				s.Version, s.Reassigned = v, true
				p.rec.Step = stepOpen
				return []storage.Op{m.put(p)}
			})
			if err != nil {
				p.rec = prev
				return err
			}
			p.publish()
		case stepOpen:
			info := &metapb.ShardInfo{Id: s.ShardId, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: s.Version}
			var opened *metapb.ShardInfo
			err := m.send(ctx, p, "OpenShard", s.ToNode, func(ctx context.Context) error {
				resp, err := m.d.OpenShard(ctx, s.ToNode, &metapb.OpenShardRequest{Header: m.header(p), Shard: info})
				if err == nil {
					opened = resp.GetShard()
				}
				return err
			})
			if err != nil {
				return err
			}
			if opened == nil || opened.Id != info.Id || opened.Version != info.Version {
				opened = info
			}
			m.c.NoteShard(s.ToNode, s.ShardId, opened)
			m.finish(p)
			return m.save(ctx, p)
		default:
			return fmt.Errorf("procedure %d: unknown step %q", p.id, p.rec.Step)
		}
	}
}

// closeStep closes the shard on from_node.
func (m *Manager) closeStep(ctx context.Context, p *proc, s *metapb.ShardProcedure) error {
	if s.SkipCloseIfDead {
		if alive, _ := m.c.NodeAlive(s.FromNode); !alive {
			m.logger.Info("not closing shard on a dead node", "cluster", m.name, "shard", s.ShardId, "node", s.FromNode)
			s.Closed = true
			return nil
		}
	}
	v, _ := m.c.ShardVersion(s.ShardId)
	info := &metapb.ShardInfo{Id: s.ShardId, Role: metapb.ShardRole_SHARD_ROLE_LEADER, Version: v}
	err := m.send(ctx, p, "CloseShard", s.FromNode, func(ctx context.Context) error {
		_, err := m.d.CloseShard(ctx, s.FromNode, &metapb.CloseShardRequest{Header: m.header(p), Shard: info})
		return err
	})
	if err != nil {
		return err
	}
	m.c.NoteShard(s.FromNode, s.ShardId, nil)
	s.Closed = true
	return nil
}
