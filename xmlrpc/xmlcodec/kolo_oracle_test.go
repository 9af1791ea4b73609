package xmlcodec

import (
	"bytes"
	"errors"
	"fmt"

	kolo "github.com/kolo/xmlrpc"
)

// The kolo route is the reference decoder of the differential tests and
// the baseline of the benchmarks: kolo has no server-side API, so a call's
// params are rewritten as one <array> value and handed to kolo's Unmarshal,
// as NOTES.md describes.

var (
	koloParamsOpen  = []byte("<params>")
	koloParamsClose = []byte("</params>")
)

// koloDecodeCall decodes a methodCall with kolo. The rewrite works on
// text, so it is for trusted inputs (ours and Python's) only.
func koloDecodeCall(body []byte) (string, []any, error) {
	_, rest, ok := bytes.Cut(body, []byte("<methodName>"))
	if !ok {
		return "", nil, errors.New("kolo route: no <methodName>")
	}
	name, rest, ok := bytes.Cut(rest, []byte("</methodName>"))
	if !ok {
		return "", nil, errors.New("kolo route: no </methodName>")
	}
	start := bytes.Index(rest, koloParamsOpen)
	end := bytes.LastIndex(rest, koloParamsClose)
	if start < 0 || end < start {
		return string(name), nil, nil
	}
	params := rest[start+len(koloParamsOpen) : end]
	arr := make([]byte, 0, len(params)+64)
	arr = append(arr, "<value><array><data>"...)
	for {
		i := bytes.Index(params, []byte("<param>"))
		if i < 0 {
			break
		}
		params = params[i+len("<param>"):]
		j := bytes.Index(params, []byte("</param>"))
		if j < 0 {
			return "", nil, errors.New("kolo route: no </param>")
		}
		arr = append(arr, params[:j]...)
		params = params[j+len("</param>"):]
	}
	arr = append(arr, "</data></array></value>"...)
	var args []any
	if err := kolo.Response(arr).Unmarshal(&args); err != nil {
		return "", nil, fmt.Errorf("kolo: %w", err)
	}
	return string(name), args, nil
}

// koloDecodeReply decodes a methodResponse with kolo.
func koloDecodeReply(body []byte) (any, error) {
	r := kolo.Response(body)
	if err := r.Err(); err != nil {
		return nil, err
	}
	var v any
	if err := r.Unmarshal(&v); err != nil {
		return nil, fmt.Errorf("kolo: %w", err)
	}
	return v, nil
}
