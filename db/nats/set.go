package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chaos-testing/chaos/node"
	"github.com/chaos-testing/chaos/workload"
	"github.com/chaos-testing/chaos/workload/set"

	"github.com/nats-io/nats.go/jetstream"
)

// SetOpener opens clients for the set workload on a JetStream stream:
// each element is one message on Subject.
//
//	add   js.Publish(Subject, e), one attempt per no-responders retry of nats.go; ok: e on the stream's ack
//	read  stream info, then an ordered consumer from the first message to the last
//	      sequence the info named; ok: every element, sorted ([] when empty);
//	      ok [] when the stream does not exist (JetStream answers so)
//
// The first Open creates the stream (Replicas, file storage).
type SetOpener struct {
	ClientOptions
	// Stream and Subject are the stream's name and its one subject.
	Stream  string
	Subject string
	// Replicas is the stream's replication factor; 0 asks the db for one
	// replica per node of the cluster it set up (3 without one).
	Replicas int
	// replicas is the db's answer for Replicas 0.
	replicas func() int

	once ensureOnce
}

// Open connects a set client to n's server only, creating the stream
// first if no client has.
func (o *SetOpener) Open(ctx context.Context, n node.Node) (workload.Client, error) {
	c, err := dial(ctx, o.ClientOptions, n)
	if err != nil {
		return nil, err
	}
	js, err := c.connection(ctx)
	if err == nil {
		err = o.once.do(func() error {
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{
				Name:     o.Stream,
				Subjects: []string{o.Subject},
				Replicas: o.replicaCount(),
				Storage:  jetstream.FileStorage,
			})
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return nil
			}
			return err
		})
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("nats set client on %s: stream %s: %w", n.Name(), o.Stream, err)
	}
	return &setClient{conn: c, stream: o.Stream, subject: o.Subject}, nil
}

// replicaCount resolves Replicas.
func (o *SetOpener) replicaCount() int { return resolveReplicas(o.Replicas, o.replicas) }

type setClient struct {
	*conn
	stream  string
	subject string
}

// Invoke performs a set add or read.
func (c *setClient) Invoke(ctx context.Context, op workload.Op) workload.Result {
	switch op.F {
	case "add":
		e, err := set.DecodeAdd(op.Value)
		if err != nil {
			return badOp("set", op, "%v", err)
		}
		return c.do(ctx, true, func(ctx context.Context, js jetstream.JetStream) (any, error) {
			if _, err := js.Publish(ctx, c.subject, []byte(itoa(e))); err != nil {
				return nil, err
			}
			return e, nil
		})
	case "read":
		return c.do(ctx, false, c.read)
	}
	return badOp("set", op, "unknown f %q (want add or read)", op.F)
}

// read reads every message of the stream, up to the last sequence its
// info named when the read began.
func (c *setClient) read(ctx context.Context, js jetstream.JetStream) (any, error) {
	s, err := js.Stream(ctx, c.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		// JetStream answered that the stream does not exist: an ok read
		// of nothing. If it had acknowledged adds, they are lost.
		c.opts.Logger.Warn("nats set read: JetStream answers that the stream does not exist", "node", c.node, "stream", c.stream)
		return []int64{}, nil
	}
	if err != nil {
		return nil, err
	}
	st := s.CachedInfo().State
	elems := make([]int64, 0, st.Msgs)
	if st.Msgs == 0 {
		return elems, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("ordered consumer: %w", err)
	}
	for {
		wait := time.Second
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		if wait < 10*time.Millisecond {
			return nil, fmt.Errorf("read %s: %d of %d messages before the deadline: %w", c.stream, len(elems), st.Msgs, context.DeadlineExceeded)
		}
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(wait))
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("message metadata: %w", err)
			}
			e, err := parseInt(fmt.Sprintf("message %d", md.Sequence.Stream), m.Data())
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
			if md.Sequence.Stream >= st.LastSeq {
				slices.Sort(elems)
				return elems, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

var _ workload.Opener = (*SetOpener)(nil)
