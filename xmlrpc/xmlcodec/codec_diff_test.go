package xmlcodec

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rpcwire/rpcwire/transport"
)

// Differential tests: the same bodies decoded by our scanner and by the
// kolo route (kolo_oracle_test.go) must agree, up to kolo's known gaps,
// which koloAgrees allows for:
//
//   - <base64> decodes to the base64 text as a string, not to bytes;
//   - an empty <string></string>, <base64></base64>, <value></value> or
//     <value/> decodes to nil, not "" (it stops at the end tag);
//   - an untyped <value> has its text trimmed of white space;
//   - a struct member with an empty <name></name> is an error;
//   - a CDATA section or comment inside text cuts the text short.
//
// Bodies hitting the last two are not fed to kolo.

// koloAgrees reports whether kolo's reading k of a value matches ours,
// allowing for kolo's gaps. path locates a mismatch.
func koloAgrees(ours, k any, path string) error {
	switch o := ours.(type) {
	case []byte:
		if len(o) == 0 && k == nil {
			return nil
		}
		s, ok := k.(string)
		if !ok {
			return fmt.Errorf("%s: base64: kolo has %T", path, k)
		}
		b, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(s)), nil)))
		if err != nil || !bytes.Equal(b, o) {
			return fmt.Errorf("%s: base64 %q: kolo has %q", path, o, s)
		}
		return nil
	case string:
		if o == "" && k == nil {
			return nil
		}
	case time.Time:
		if kt, ok := k.(time.Time); ok && kt.Equal(o) {
			return nil
		}
	case []any:
		ka, ok := k.([]any)
		if !ok || len(ka) != len(o) {
			return fmt.Errorf("%s: array of %d: kolo has %#v", path, len(o), k)
		}
		for i := range o {
			if err := koloAgrees(o[i], ka[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		km, ok := k.(map[string]any)
		if !ok || len(km) != len(o) {
			return fmt.Errorf("%s: struct of %d: kolo has %#v", path, len(o), k)
		}
		for name, v := range o {
			kv, ok := km[name]
			if !ok {
				return fmt.Errorf("%s: kolo lacks member %q", path, name)
			}
			if err := koloAgrees(v, kv, path+"."+name); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(ours, k) {
		return fmt.Errorf("%s: ours %#v, kolo %#v", path, ours, k)
	}
	return nil
}

// koloCanRead reports whether a body avoids the kolo gaps that make it
// fail or cut text (empty member names, CDATA and comments in text).
func koloCanRead(body []byte) bool {
	return !bytes.Contains(body, []byte("<name></name>")) && !bytes.Contains(body, []byte("<![CDATA[")) &&
		!bytes.Contains(body, []byte("<!--"))
}

// diffCall decodes a call both ways and compares.
func diffCall(t *testing.T, body []byte) (string, []any) {
	t.Helper()
	method, args, err := Codec{}.DecodeCall(body)
	require.NoError(t, err, "ours\n%s", body)
	if !koloCanRead(body) {
		return method, args
	}
	km, kargs, err := koloDecodeCall(body)
	require.NoError(t, err, "kolo\n%s", body)
	assert.Equal(t, method, km)
	if args == nil {
		args = []any{}
	}
	assert.NoError(t, koloAgrees(args, kargs, "args"), "%s", body)
	return method, args
}

// diffReply decodes a reply both ways and compares.
func diffReply(t *testing.T, body []byte) (any, error) {
	t.Helper()
	v, err := Codec{}.DecodeReply(body)
	if !koloCanRead(body) {
		return v, err
	}
	kv, kerr := koloDecodeReply(body)
	var re *transport.RemoteError
	if errors.As(err, &re) {
		var kf kolo.FaultError
		require.ErrorAs(t, kerr, &kf, "%s", body)
		assert.Equal(t, re.Code, kf.Code)
		assert.Equal(t, re.Message, kf.String)
		return v, err
	}
	require.NoError(t, err, "ours\n%s", body)
	require.NoError(t, kerr, "kolo\n%s", body)
	assert.NoError(t, koloAgrees(v, kv, "result"), "%s", body)
	return v, err
}

func TestDiffGolden(t *testing.T) {
	for _, gc := range loadGolden(t) {
		t.Run(gc.Name, func(t *testing.T) {
			body := goldenBody(t, gc.Name)
			if gc.Kind == "call" {
				diffCall(t, body)
			} else {
				diffReply(t, body)
			}
		})
	}
}

// TestDiffRandom encodes random values with our codec and decodes them
// with both: ours must give the values back exactly, kolo must agree.
func TestDiffRandom(t *testing.T) {
	c := Codec{}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		method, args := randomMethod(r), randomArgs(r)
		body, err := c.AppendCall(nil, method, args)
		require.NoError(t, err)
		gotMethod, gotArgs := diffCall(t, body)
		assert.Equal(t, method, gotMethod)
		if len(args) == 0 {
			assert.Empty(t, gotArgs, "%d", i)
		} else {
			assert.Equal(t, args, gotArgs, "%d\n%s", i, body)
		}

		result := randomValue(r, 3)
		body, err = c.AppendReply(nil, result)
		require.NoError(t, err)
		got, err := diffReply(t, body)
		require.NoError(t, err)
		assert.Equal(t, result, got, "%d\n%s", i, body)
	}
}

// koloSafe replaces what kolo's encoder gets wrong (nil, []byte, member
// names with characters to escape) by values it encodes faithfully.
func koloSafe(v any) any {
	switch x := v.(type) {
	case nil:
		return "nil"
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = koloSafe(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			// kolo writes member names unescaped.
			k = strings.NewReplacer("&", "_", "<", "_", ">", "_", "\r", "_").Replace(k)
			if k == "" {
				k = "empty"
			}
			out[k] = koloSafe(e)
		}
		return out
	}
	return v
}

// TestDiffKoloEncoded decodes bodies kolo's encoder wrote: ours must read
// back the values kolo was given, and kolo must agree.
func TestDiffKoloEncoded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		args := koloSafe(randomArgs(r)).([]any)
		if len(args) == 0 {
			args = []any{"x"} // kolo writes no <params> at all for no args
		}
		body, err := kolo.EncodeMethodCall("m.x", args...)
		require.NoError(t, err)
		_, got := diffCall(t, body)
		assert.Equal(t, args, got, "%d\n%s", i, body)
	}
}
