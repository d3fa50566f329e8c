package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultFlushInterval is how often a Writer pushes buffered ops to the
// file. A controller killed with SIGKILL loses at most this much history.
const DefaultFlushInterval = 50 * time.Millisecond

// Writer appends ops to a JSON Lines stream. It assigns each op its Index,
// is safe for concurrent use, and flushes on a timer so that the file on
// disk is always a valid prefix of the history (perhaps with a torn last
// line, which Read accepts).
type Writer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	next  int64
	buf   []byte
	err   error
	stop  chan struct{}
	done  chan struct{}
	close func() error
	clock *Clock
}

// NewWriter starts a Writer on w, flushing every interval (DefaultFlushInterval
// if zero). If w is an io.Closer, Close closes it. clock stamps ops passed to
// Record; it may be nil if only Append is used.
func NewWriter(w io.Writer, clock *Clock, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	hw := &Writer{
		w:     bufio.NewWriterSize(w, 256<<10),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		clock: clock,
	}
	if c, ok := w.(io.Closer); ok {
		hw.close = c.Close
	}
	go hw.flushLoop(interval)
	return hw
}

func (hw *Writer) flushLoop(interval time.Duration) {
	defer close(hw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-hw.stop:
			return
		case <-t.C:
			hw.mu.Lock()
			if hw.err == nil {
				hw.err = hw.w.Flush()
			}
			hw.mu.Unlock()
		}
	}
}

// Record stamps op with the clock's time and appends it. Taking the time
// under the writer's lock keeps times in the file in index order.
func (hw *Writer) Record(op *Op) (int64, error) {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	op.Time = hw.clock.Now()
	return hw.appendLocked(op)
}

// Append assigns op the next index, writes it with the time it already has,
// and returns the index. The first write error is sticky: it is returned by
// this and every later call.
func (hw *Writer) Append(op *Op) (int64, error) {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	return hw.appendLocked(op)
}

func (hw *Writer) appendLocked(op *Op) (int64, error) {
	if hw.err != nil {
		return 0, hw.err
	}
	op.Index = hw.next
	hw.next++
	if op.Attempt != nil && op.Attempt.First < 0 {
		// The first attempt's invocation: the logical op is named by
		// the index it gets now.
		op.Attempt.First = op.Index
	}
	hw.buf = AppendJSON(hw.buf[:0], op)
	hw.buf = append(hw.buf, '\n')
	if _, err := hw.w.Write(hw.buf); err != nil {
		hw.err = fmt.Errorf("write history: %w", err)
	}
	return op.Index, hw.err
}

// Len is the number of ops appended so far.
func (hw *Writer) Len() int64 {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	return hw.next
}

// Flush writes buffered ops to the underlying writer now.
func (hw *Writer) Flush() error {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	if hw.err == nil {
		hw.err = hw.w.Flush()
	}
	return hw.err
}

// Close stops the flush timer, flushes, and closes the underlying writer
// if it is a Closer. It is safe to call more than once.
func (hw *Writer) Close() error {
	select {
	case <-hw.stop:
	default:
		close(hw.stop)
	}
	<-hw.done
	err := hw.Flush()
	hw.mu.Lock()
	defer hw.mu.Unlock()
	if hw.close != nil {
		if cerr := hw.close(); cerr != nil && err == nil {
			err = fmt.Errorf("close history: %w", cerr)
		}
		hw.close = nil
	}
	return err
}

// AppendJSON appends op's JSON encoding (the same as encoding/json's, with
// fields in declaration order and empty optional fields left out) to b.
// It is the history's hot path, so it avoids reflection.
func AppendJSON(b []byte, op *Op) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, op.Index, 10)
	b = append(b, `,"process":`...)
	b = strconv.AppendInt(b, int64(op.Process), 10)
	b = append(b, `,"type":`...)
	b = appendString(b, string(op.Type))
	b = append(b, `,"f":`...)
	b = appendString(b, op.F)
	if op.Key != "" {
		b = append(b, `,"key":`...)
		b = appendString(b, op.Key)
	}
	if len(op.Value) > 0 {
		b = append(b, `,"value":`...)
		// Compact keeps the value on one line (valid JSON may hold
		// newlines); a value that is not JSON is written as a string.
		// Either way, never write a line that cannot be read back.
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, op.Value); err == nil {
			b = buf.Bytes()
		} else {
			b = appendString(b, string(op.Value))
		}
	}
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, op.Time, 10)
	if op.Node != "" {
		b = append(b, `,"node":`...)
		b = appendString(b, op.Node)
	}
	if op.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, op.Error)
	}
	if a := op.Attempt; a != nil {
		b = append(b, `,"attempt":{"n":`...)
		b = strconv.AppendInt(b, int64(a.N), 10)
		b = append(b, `,"first":`...)
		b = strconv.AppendInt(b, a.First, 10)
		if a.Key != "" {
			b = append(b, `,"key":`...)
			b = appendString(b, a.Key)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping what JSON requires and
// <, >, & as encoding/json does, and replacing invalid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
