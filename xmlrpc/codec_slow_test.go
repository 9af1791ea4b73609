package xmlrpc

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDecodeLinearTime feeds large hostile bodies (about 1 MB each) and
// checks each is answered in well under a second: nothing in the scanner
// may be quadratic.
func TestDecodeLinearTime(t *testing.T) {
	const n = 50_000
	bodies := map[string]string{
		"nested arrays":     value(strings.Repeat("<value><array><data>", n)),
		"nested structs":    value(strings.Repeat("<value><struct><member><name>a</name>", n)),
		"many comments":     value("<value>" + strings.Repeat("<!-- c -->", n) + "</value>"),
		"open comments":     value("<value>" + strings.Repeat("<!--", n)),
		"many refs":         value("<value>" + strings.Repeat("&amp;", n) + "</value>"),
		"bad refs":          value("<value>" + strings.Repeat("&", n)),
		"many cdata":        value("<value>" + strings.Repeat("<![CDATA[x]]>", n) + "</value>"),
		"open cdata":        value("<value>" + strings.Repeat("<![CDATA[", n)),
		"pis":               strings.Repeat("<?pi x?>", n) + value("<value/>"),
		"open pis":          strings.Repeat("<?", n),
		"many attrs":        "<methodCall" + strings.Repeat(` a="1"`, n) + ">",
		"open attr":         "<methodCall a=\"" + strings.Repeat("x", 20*n),
		"long name":         "<" + strings.Repeat("m", 20*n),
		"many values":       value("<value><array><data>" + strings.Repeat("<value/>", n) + "</data></array></value>"),
		"many members":      value("<value><struct>" + strings.Repeat("<member><name>k</name><value/></member>", n) + "</struct></value>"),
		"long text":         value("<value>" + strings.Repeat("é", 10*n) + "</value>"),
		"many params":       "<methodCall><methodName>m</methodName><params>" + strings.Repeat("<param><value/></param>", n) + "</params></methodCall>",
		"whitespace":        strings.Repeat(" \n", 10*n),
		"many end tags":     strings.Repeat("</value>", n),
		"base64 whitespace": value("<value><base64>" + strings.Repeat("QUJD \n", n) + "</base64></value>"),
	}
	for name, body := range bodies {
		start := time.Now()
		_, _, _ = Codec{}.DecodeCall([]byte(body))
		_, _ = Codec{}.DecodeReply([]byte(body))
		assert.Less(t, time.Since(start), time.Second, "%s (%d bytes)", name, len(body))
	}
}
