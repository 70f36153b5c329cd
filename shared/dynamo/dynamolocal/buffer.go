package dynamolocal

import (
	"bytes"
	"sync"
)

// lockedBuffer collects the JVM's stderr, written by exec's copying goroutine
// and read by the starter.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxStderr bounds what is kept: only the start of the output explains a failure.
const maxStderr = 64 << 10

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxStderr - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
