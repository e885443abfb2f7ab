package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/horaego/horaedb/wal"
)

// Kafka requests of the WAL: topics, synchronous produce, fetch, delete.

// topicRef names a topic; reads need its id too (Fetch v13+).
type topicRef struct {
	name string
	id   [16]byte
}

// unavailable wraps an error of Kafka as wal.ErrUnavailable.
func unavailable(what string, err error) error {
	if errors.Is(err, wal.ErrUnavailable) || errors.Is(err, wal.ErrCorrupt) || errors.Is(err, wal.ErrClosed) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, wal.ErrUnavailable, err)
}

// retry calls fn until it succeeds, returns a permanent error, ctx ends or
// MaxRetry retries failed, waiting the configured backoff in between.
func (w *WAL) retry(ctx context.Context, what string, fn func() (retriable bool, err error)) error {
	for try := 0; ; try++ {
		retriable, err := fn()
		if err == nil {
			return nil
		}
		if !retriable || try >= w.opts.MaxRetry {
			return unavailable(what, err)
		}
		w.log.Debug("retrying", "what", what, "try", try+1, "err", err)
		select {
		case <-ctx.Done():
			return unavailable(what, fmt.Errorf("%w (last error: %w)", ctx.Err(), err))
		case <-w.stop:
			return fmt.Errorf("%s: %w", what, wal.ErrClosed)
		case <-time.After(w.opts.backoff(try + 1)):
		}
	}
}

// topicConfigs are the configs of the topics the WAL creates: nothing is
// deleted by time or size, only by the WAL's DeleteRecords.
func (w *WAL) topicConfigs() map[string]*string {
	s := func(v string) *string { return &v }
	return map[string]*string{
		"cleanup.policy":    s("delete"),
		"retention.ms":      s("-1"),
		"retention.bytes":   s("-1"),
		"max.message.bytes": s(strconv.Itoa(w.opts.MaxMessageBytes)),
	}
}

// ensureTopic returns the topic, creating it (one partition) if it does not
// exist. It warns about an existing topic whose configs may delete records.
func (w *WAL) ensureTopic(ctx context.Context, name string) (topicRef, error) {
	var ref topicRef
	created := false
	err := w.retry(ctx, "topic "+name, func() (bool, error) {
		md, err := w.metadata(ctx, name, true)
		if err == nil {
			ref = topicRef{name: name, id: md.TopicID}
			return false, nil
		}
		if !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return true, err
		}
		_, err = w.admin.CreateTopic(ctx, 1, int16(w.opts.ReplicationFactor), w.topicConfigs(), name)
		switch {
		case err == nil:
			created = true
			w.log.Info("created topic", "topic", name, "replication_factor", w.opts.ReplicationFactor)
		case errors.Is(err, kerr.TopicAlreadyExists):
		case errors.Is(err, kerr.InvalidReplicationFactor), errors.Is(err, kerr.PolicyViolation),
			errors.Is(err, kerr.InvalidConfig), errors.Is(err, kerr.TopicAuthorizationFailed),
			errors.Is(err, kerr.ClusterAuthorizationFailed):
			return false, fmt.Errorf("create: %w", err)
		default:
			return true, fmt.Errorf("create: %w", err)
		}
		// Created (by us or someone else): its metadata follows shortly.
		md, err = w.awaitTopic(ctx, name)
		if err != nil {
			return true, err
		}
		ref = topicRef{name: name, id: md.TopicID}
		return false, nil
	})
	if err != nil {
		return topicRef{}, err
	}
	if !created {
		w.checkTopicConfigs(ctx, name)
	}
	return ref, nil
}

// awaitTopic polls the metadata of a topic just created until it has a
// leader, for up to CreateTimeout.
func (w *WAL) awaitTopic(ctx context.Context, name string) (topicMeta, error) {
	deadline := time.Now().Add(w.opts.CreateTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		md, err := w.metadata(ctx, name, true)
		if err == nil || time.Now().After(deadline) {
			return md, err
		}
		select {
		case <-ctx.Done():
			return topicMeta{}, ctx.Err()
		case <-tick.C:
		}
	}
}

// checkTopicConfigs warns when an existing topic may lose records the WAL
// still needs.
func (w *WAL) checkTopicConfigs(ctx context.Context, name string) {
	rcs, err := w.admin.DescribeTopicConfigs(ctx, name)
	if err != nil {
		w.log.Debug("describe topic configs", "topic", name, "err", err)
		return
	}
	rc, err := rcs.On(name, nil)
	if err != nil || rc.Err != nil {
		return
	}
	for _, c := range rc.Configs {
		v := c.MaybeValue()
		bad := false
		switch c.Key {
		case "retention.ms", "retention.bytes":
			bad = v != "-1"
		case "cleanup.policy":
			bad = v != "delete"
		}
		if bad {
			w.log.Warn("WAL topic may delete records before their tables are flushed; set retention.ms=-1, "+
				"retention.bytes=-1, cleanup.policy=delete", "topic", name, "config", c.Key, "value", v)
		}
	}
}

// metadata returns the metadata of a topic's partition 0; cached unless
// fresh is set. kerr.UnknownTopicOrPartition means the topic does not
// exist.
func (w *WAL) metadata(ctx context.Context, topic string, fresh bool) (topicMeta, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = []kmsg.MetadataRequestTopic{rt}
	var resp *kmsg.MetadataResponse
	var err error
	if fresh {
		var r kmsg.Response
		r, err = w.cl.Request(ctx, req)
		if err == nil {
			resp = r.(*kmsg.MetadataResponse)
		}
	} else {
		resp, err = w.cl.RequestCachedMetadata(ctx, req, 0)
	}
	if err != nil {
		return topicMeta{}, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return topicMeta{}, err
		}
		for _, p := range t.Partitions {
			if p.Partition != 0 {
				continue
			}
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && !errors.Is(err, kerr.ReplicaNotAvailable) {
				return topicMeta{}, err
			}
			if p.Leader < 0 {
				return topicMeta{}, kerr.LeaderNotAvailable
			}
			return topicMeta{TopicID: t.TopicID, Leader: p.Leader}, nil
		}
		return topicMeta{}, fmt.Errorf("topic %s has no partition 0: %w", topic, kerr.UnknownTopicOrPartition)
	}
	return topicMeta{}, kerr.UnknownTopicOrPartition
}

type topicMeta struct {
	TopicID [16]byte
	Leader  int32
}

// produceSync produces values, in order, to partition 0 of topic and waits
// for their acknowledgement, up to AppendTimeout. It returns their offsets.
func (w *WAL) produceSync(ctx context.Context, topic string, values ...[]byte) ([]int64, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		offs = make([]int64, len(values))
		perr error
	)
	wg.Add(len(values))
	for i, v := range values {
		w.cl.TryProduce(context.Background(), &kgo.Record{Topic: topic, Partition: 0, Value: v}, func(r *kgo.Record, err error) {
			mu.Lock()
			if err != nil && perr == nil {
				perr = err
			}
			offs[i] = r.Offset
			mu.Unlock()
			wg.Done()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(w.opts.AppendTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		return nil, fmt.Errorf("produce to %s: no acknowledgement within %s: %w", topic, w.opts.AppendTimeout, wal.ErrUnavailable)
	case <-ctx.Done():
		return nil, fmt.Errorf("produce to %s: %w: %w", topic, wal.ErrUnavailable, ctx.Err())
	}
	if perr != nil {
		return nil, w.produceError(topic, perr)
	}
	return offs, nil
}

// produceError classifies a failed produce.
func (w *WAL) produceError(topic string, err error) error {
	if errors.Is(err, wal.ErrUnavailable) {
		return err
	}
	if errors.Is(err, kgo.ErrClientClosed) {
		return fmt.Errorf("produce to %s: %w", topic, wal.ErrClosed)
	}
	return unavailable("produce to "+topic, err)
}

// fetchResult is one fetch of partition 0 of a topic.
type fetchResult struct {
	records        []*kgo.Record
	highWatermark  int64
	logStartOffset int64
}

// fetch reads records of partition 0 of t from offset on, from the
// partition's leader. An offset below the log start is moved up to it.
func (w *WAL) fetch(ctx context.Context, t topicRef, offset int64) (fetchResult, error) {
	var res fetchResult
	fresh := false
	err := w.retry(ctx, "fetch "+t.name, func() (bool, error) {
		md, err := w.metadata(ctx, t.name, fresh)
		fresh = true // after a failure, ask again
		if err != nil {
			return true, err
		}
		fp, err := w.fetchOnce(ctx, t.name, md, offset)
		if errors.Is(err, kerr.OffsetOutOfRange) {
			// Below the log start (deleted records): go on from there.
			start, serr := w.logStart(ctx, t.name)
			if serr != nil {
				return true, serr
			}
			if start <= offset {
				return true, fmt.Errorf("offset %d out of range, log start %d: %w", offset, start, err)
			}
			offset = start
			fp, err = w.fetchOnce(ctx, t.name, md, offset)
		}
		if err != nil {
			return ctx.Err() == nil && (kerr.IsRetriable(err) || isLeaderError(err) || !isKafkaError(err)), err
		}
		res = fetchResult{records: fp.Records, highWatermark: fp.HighWatermark, logStartOffset: fp.LogStartOffset}
		return false, nil
	})
	if err != nil {
		return fetchResult{}, err
	}
	w.metrics.readRecords.Add(float64(len(res.records)))
	return res, nil
}

// fetchOnce sends one fetch request to the leader.
func (w *WAL) fetchOnce(ctx context.Context, topic string, md topicMeta, offset int64) (kgo.FetchPartition, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(w.opts.FetchMaxWait.Milliseconds())
	req.MinBytes = w.opts.FetchMinBytes
	req.MaxBytes = w.opts.FetchMaxBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, md.TopicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = 0
	rp.FetchOffset = offset
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rp.PartitionMaxBytes = w.opts.FetchMaxBytes
	rt.Partitions = []kmsg.FetchRequestTopicPartition{rp}
	req.Topics = []kmsg.FetchRequestTopic{rt}
	r, err := w.cl.Broker(int(md.Leader)).Request(ctx, req)
	if err != nil {
		return kgo.FetchPartition{}, err
	}
	resp := r.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return kgo.FetchPartition{}, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return kgo.FetchPartition{}, fmt.Errorf("fetch response with %d topics", len(resp.Topics))
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{
		Offset: offset, Topic: topic, Partition: 0,
	}, &resp.Topics[0].Partitions[0], kgo.DefaultDecompressor(), nil)
	return fp, fp.Err
}

func isKafkaError(err error) bool {
	var ke *kerr.Error
	return errors.As(err, &ke)
}

func isLeaderError(err error) bool {
	return errors.Is(err, kerr.NotLeaderForPartition) || errors.Is(err, kerr.UnknownTopicOrPartition) ||
		errors.Is(err, kerr.LeaderNotAvailable) || errors.Is(err, kerr.FencedLeaderEpoch) ||
		errors.Is(err, kerr.UnknownLeaderEpoch) || errors.Is(err, kerr.UnknownTopicID)
}

// logStart returns the log start offset of partition 0 of topic.
func (w *WAL) logStart(ctx context.Context, topic string) (int64, error) {
	offs, err := w.admin.ListStartOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok {
		return 0, fmt.Errorf("no start offset for %s", topic)
	}
	if o.Err != nil {
		return 0, o.Err
	}
	return o.Offset, nil
}

// scan calls fn for every record of partition 0 of t from offset from up
// to offset to (exclusive), or, with to < 0, up to the high watermark of
// the first fetch. It returns the offset it stopped at.
func (w *WAL) scan(ctx context.Context, t topicRef, from, to int64, fn func(off int64, value []byte) error) (int64, error) {
	off := from
	for to < 0 || off < to {
		res, err := w.fetch(ctx, t, off)
		if err != nil {
			return off, err
		}
		if to < 0 {
			to = res.highWatermark
		}
		off = max(off, res.logStartOffset)
		for _, r := range res.records {
			if r.Offset < off {
				continue
			}
			if r.Offset >= to {
				return to, nil
			}
			if err := fn(r.Offset, r.Value); err != nil {
				return r.Offset, err
			}
			off = r.Offset + 1
		}
		if len(res.records) == 0 {
			if res.highWatermark <= off {
				return off, nil
			}
			// Nothing at off below the high watermark: a gap (transaction
			// markers, compaction) we step over.
			off++
		}
	}
	return off, nil
}

// deleteRecords deletes the records of partition 0 of topic below offset.
func (w *WAL) deleteRecords(ctx context.Context, topic string, before int64) error {
	return w.retry(ctx, "delete records of "+topic, func() (bool, error) {
		resps, err := w.deleter.DeleteRecords(ctx, offsetsOf(topic, before))
		if err != nil {
			return true, err
		}
		r, ok := resps[topic][0]
		if !ok {
			return true, fmt.Errorf("no response for %s", topic)
		}
		if r.Err != nil {
			return kerr.IsRetriable(r.Err) || isLeaderError(r.Err), r.Err
		}
		w.metrics.deletes.Inc()
		return false, nil
	})
}

func offsetsOf(topic string, at int64) kadm.Offsets {
	offs := make(kadm.Offsets)
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: at, LeaderEpoch: -1})
	return offs
}
