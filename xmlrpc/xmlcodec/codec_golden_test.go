package xmlcodec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// goldenCase is one entry of testdata/golden/golden.json, written by
// gen.py: a body Python produced and what Python reads from it.
type goldenCase struct {
	Name    string            `json:"name"`
	Kind    string            `json:"kind"` // call, response or fault
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
	Result  json.RawMessage   `json:"result"`
	Code    int               `json:"code"`
	Message string            `json:"message"`
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "golden", "golden.json"))
	require.NoError(t, err)
	var cases []goldenCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	return cases
}

func goldenBody(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "golden", name+".xml"))
	require.NoError(t, err)
	return body
}

// untag turns gen.py's tagged JSON ({"int": 5}, {"array": [...]}) into the
// wire value the codec should decode.
func untag(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tagged map[string]any
	if err := dec.Decode(&tagged); err != nil {
		return nil, err
	}
	return untagValue(tagged)
}

func untagValue(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, fmt.Errorf("not a tagged value: %v", v)
	}
	for typ, x := range m {
		switch typ {
		case "nil":
			return nil, nil
		case "boolean":
			return x.(bool), nil
		case "int":
			return x.(json.Number).Int64()
		case "double":
			return x.(json.Number).Float64()
		case "string":
			return x.(string), nil
		case "base64":
			return base64.StdEncoding.DecodeString(x.(string))
		case "dateTime":
			return time.Parse("2006-01-02T15:04:05", x.(string))
		case "array":
			out := []any{}
			for _, e := range x.([]any) {
				w, err := untagValue(e)
				if err != nil {
					return nil, err
				}
				out = append(out, w)
			}
			return out, nil
		case "struct":
			out := map[string]any{}
			for k, e := range x.(map[string]any) {
				w, err := untagValue(e)
				if err != nil {
					return nil, err
				}
				out[k] = w
			}
			return out, nil
		}
		return nil, fmt.Errorf("unknown tag %q", typ)
	}
	panic("unreachable")
}

// TestGoldenDecode decodes every body Python produced and checks it holds
// what Python itself reads from it.
func TestGoldenDecode(t *testing.T) {
	c := Codec{}
	for _, gc := range loadGolden(t) {
		t.Run(gc.Name, func(t *testing.T) {
			body := goldenBody(t, gc.Name)
			switch gc.Kind {
			case "call":
				method, args, err := c.DecodeCall(body)
				require.NoError(t, err)
				assert.Equal(t, gc.Method, method)
				want := make([]any, 0, len(gc.Params))
				for _, p := range gc.Params {
					w, err := untag(p)
					require.NoError(t, err)
					want = append(want, w)
				}
				if len(want) == 0 {
					assert.Empty(t, args)
				} else {
					assert.Equal(t, want, args)
				}
			case "response":
				got, err := c.DecodeReply(body)
				require.NoError(t, err)
				want, err := untag(gc.Result)
				require.NoError(t, err)
				assert.Equal(t, want, got)
			case "fault":
				_, err := c.DecodeReply(body)
				var re *transport.RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, &transport.RemoteError{Code: gc.Code, Message: gc.Message}, re)
			default:
				t.Fatalf("unknown kind %q", gc.Kind)
			}
		})
	}
}

// TestGoldenFaultPythonIsMethodNotFound checks that Python's way of saying
// "no such method" maps to our sentinel.
func TestGoldenFaultPythonIsMethodNotFound(t *testing.T) {
	_, err := Codec{}.DecodeReply(goldenBody(t, "fault_python"))
	assert.ErrorIs(t, err, transport.ErrMethodNotFound)
}

// TestGoldenTruncated cuts every golden body at every byte: each prefix
// must fail with ErrParse (never panic), except the whole body and ones
// that only lose trailing white space.
func TestGoldenTruncated(t *testing.T) {
	c := Codec{}
	for _, gc := range loadGolden(t) {
		body := goldenBody(t, gc.Name)
		full := len(bytes.TrimRight(body, " \n"))
		for n := range full {
			var err error
			if gc.Kind == "call" {
				_, _, err = c.DecodeCall(body[:n])
			} else {
				_, err = c.DecodeReply(body[:n])
			}
			require.ErrorIs(t, err, transport.ErrParse, "%s cut at %d", gc.Name, n)
		}
	}
}
