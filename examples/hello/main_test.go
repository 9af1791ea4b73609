package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rpcwire/rpcwire/internal/logbuf"
	"github.com/rpcwire/rpcwire/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// freshHello deletes the queue, so no old message is in the way, and
// again when the test ends.
func freshHello(t *testing.T, broker, queue string) {
	del := func() {
		conn, err := amqp091.Dial(broker)
		require.NoError(t, err)
		defer conn.Close()
		ch, err := conn.Channel()
		require.NoError(t, err)
		_, _ = ch.QueueDelete(queue, false, false, false)
	}
	del()
	t.Cleanup(del)
}

// startReceive runs `hello receive` until it has count messages.
func startReceive(t *testing.T, broker string, args ...string) (*logbuf.Buffer, <-chan int) {
	out := &logbuf.Buffer{}
	code := make(chan int, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	go func() { code <- run(ctx, append([]string{"-url", broker}, args...), out, out) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Waiting for messages") },
		10*time.Second, 10*time.Millisecond, "receive did not start: %s", out)
	return out, code
}

func TestSendReceive(t *testing.T) {
	broker := testenv.URL(t)
	freshHello(t, broker, "hello_go_test")
	out, code := startReceive(t, broker, "-queue", "hello_go_test", "-count", "2", "receive")
	var sendOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-url", broker, "-queue", "hello_go_test", "send"}, &sendOut, &sendOut), sendOut.String())
	assert.Contains(t, sendOut.String(), `Sent "Hello World!"`)
	require.Equal(t, 0, run(context.Background(), []string{"-url", broker, "-queue", "hello_go_test", "send", "two", "words"}, &sendOut, &sendOut), sendOut.String())
	assert.Equal(t, 0, <-code)
	assert.Contains(t, out.String(), ` [x] Received "Hello World!"`)
	assert.Contains(t, out.String(), ` [x] Received "two words"`)
}

func TestSendWithoutQueue(t *testing.T) {
	broker := testenv.URL(t)
	var out bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"-url", broker, "-queue", "hello_nobody_declared_this", "send"}, &out, &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "no server")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestPikaProducerToReceive: the article's simple_producer.py sends,
// `hello receive` prints.
func TestPikaProducerToReceive(t *testing.T) {
	broker := testenv.URL(t)
	py := testenv.Python(t, "pika")
	freshHello(t, broker, "hello")
	out, code := startReceive(t, broker, "-count", "1", "receive")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pout, err := exec.CommandContext(ctx, py, "../../amqp/testdata/py/simple_producer.py").CombinedOutput()
	require.NoError(t, err, "%s", pout)
	select {
	case c := <-code:
		assert.Equal(t, 0, c)
	case <-time.After(10 * time.Second):
		t.Fatalf("receive got nothing: %s", out)
	}
	assert.Contains(t, out.String(), ` [x] Received "Hello World!"`)
}

// TestSendToPikaConsumer: `hello send` sends, the article's
// simple_consumer.py prints exactly what the pika producer would make it
// print.
func TestSendToPikaConsumer(t *testing.T) {
	broker := testenv.URL(t)
	py := testenv.Python(t, "pika")
	freshHello(t, broker, "hello")
	cmd := exec.Command(py, "../../amqp/testdata/py/simple_consumer.py")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 10)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		_ = cmd.Process.Kill()
		for range lines {
		}
		_ = cmd.Wait()
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(15 * time.Second):
			t.Fatal("simple_consumer.py printed nothing")
			return ""
		}
	}
	require.Contains(t, next(), "Waiting for messages")
	var out bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"-url", broker, "send"}, &out, &out), out.String())
	assert.Equal(t, ` [x] Received b'Hello World!'`, next())
}
