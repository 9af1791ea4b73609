package xmlrpc_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeclaredEncodings: bodies in ISO-8859-1 (what PHP's xmlrpc
// extension declares by default) and Windows-1252 are read on both sides,
// whatever charset the HTTP header claims; replies are UTF-8.
func TestDeclaredEncodings(t *testing.T) {
	srv := newTestServer(t).listen(t, "http://127.0.0.1:0/")
	echo := func(decl, s string) string {
		return decl + `<methodCall><methodName>echo</methodName><params><param><value><string>` + s +
			`</string></value></param></params></methodCall>`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"iso-8859-1", echo(`<?xml version="1.0" encoding="iso-8859-1"?>`, "caf\xe9 \xbd"), "café ½"},
		{"latin1, PHP's references", echo(`<?xml version="1.0" encoding="latin1"?>`, "caf&#233;"), "café"},
		{"windows-1252", echo(`<?xml version='1.0' encoding='Windows-1252'?>`, "\x93caf\xe9\x94 \x80"), "“café” €"},
	} {
		resp, reply := post(t, http.MethodPost, srv.Addr(), tc.body)
		assert.Equal(t, http.StatusOK, resp.StatusCode, tc.name)
		assert.Equal(t, `<?xml version="1.0"?>`+"\n<methodResponse><params><param><value><string>"+tc.want+
			"</string></value></param></params></methodResponse>\n", reply, tc.name)
	}

	// A server like PHP's: the header says UTF-8, the body declares
	// (and is) ISO-8859-1.
	php := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		_, _ = io.WriteString(w, "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<methodResponse>\n<params>\n <param>\n  <value>\n"+
			"   <string>caf\xe9 &#233;</string>\n  </value>\n </param>\n</params>\n</methodResponse>")
	}))
	defer php.Close()
	var s string
	require.NoError(t, dial(t, php.URL).Call(ctxT(t), "echo", []any{"x"}, &s))
	assert.Equal(t, "café é", s)
}
