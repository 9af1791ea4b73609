package transport

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ParseURL parses raw as url.Parse does, and also accepts a
// comma-separated list of hosts in the authority, which AMQP URLs use to
// name the nodes of a cluster (amqp://user:pass@host1:5672,host2/vhost):
// the list is kept whole in the URL's Host. Its errors never quote the
// URL's password.
func ParseURL(raw string) (*url.URL, error) {
	auth, start, end := authority(raw, 0)
	if start < 0 || !strings.Contains(auth, ",") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, parseError(raw, err)
		}
		return u, nil
	}
	userinfo, hosts := "", auth
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		userinfo, hosts = auth[:at+1], auth[at+1:]
	}
	list := strings.Split(hosts, ",")
	for _, h := range list {
		if h == "" {
			return nil, fmt.Errorf("rpcwire: invalid URL %s: empty host in the host list (write host1:port1,host2:port2)", Redact(raw))
		}
	}
	// Parse with the first host standing for the list, then put it back.
	u, err := url.Parse(raw[:start] + userinfo + list[0] + raw[end:])
	if err != nil {
		return nil, parseError(raw, err)
	}
	for _, h := range list[1:] {
		if _, err := url.Parse("x://" + h); err != nil {
			return nil, fmt.Errorf("rpcwire: invalid URL %s: bad host %q in the host list", Redact(raw), h)
		}
	}
	u.Host = hosts
	return u, nil
}

// authority finds the authority of the URL in s at or after from (between
// "//" and the next "/", "?" or "#"): it returns it and its bounds, or
// start -1 when there is none.
func authority(s string, from int) (auth string, start, end int) {
	i := strings.Index(s[from:], "//")
	if i < 0 {
		return "", -1, -1
	}
	start = from + i + 2
	end = len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	return s[start:end], start, end
}

// Redact returns s with the password of every URL in it replaced by
// "xxxxx", as url.URL.Redacted does for one: a string may hold several
// URLs (a ';'-separated list, an error message quoting two).
func Redact(s string) string {
	var b strings.Builder
	from := 0
	for {
		auth, start, end := authority(s, from)
		if start < 0 {
			break
		}
		at := strings.LastIndexByte(auth, '@')
		colon := strings.IndexByte(auth, ':')
		b.WriteString(s[from:start])
		if at >= 0 && colon >= 0 && colon < at {
			b.WriteString(auth[:colon+1])
			b.WriteString("xxxxx")
			b.WriteString(auth[at:])
		} else {
			b.WriteString(auth)
		}
		from = end
	}
	b.WriteString(s[from:])
	return b.String()
}

// parseError is url.Parse's error without the URL it quotes (which may
// hold a password), or any piece of it.
func parseError(raw string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if strings.Contains(raw, "@") {
		// The cause may quote a piece of the URL that is part of a
		// password ("u:pa/ss@h" fails with invalid port ":pa").
		err = errors.New(unquote(err.Error()))
	}
	return fmt.Errorf("rpcwire: invalid URL: %w", err)
}
