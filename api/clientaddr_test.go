package api

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzClientAddr: X-Forwarded-For is outside input. The client address is
// the peer unless the peer is a trusted proxy, and is always an address
// the request named.
func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.2:4000", "203.0.113.7")
	f.Add("10.0.0.2:4000", "198.51.100.1, 203.0.113.7, 10.0.0.9")
	f.Add("192.0.2.1:80", "203.0.113.7")
	f.Add("[::ffff:10.0.0.2]:1", "not an address, 10.0.0.3")
	f.Add("garbage", "")
	s := &server{Deps: Deps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientAddr(r)
		a, err := netip.ParseAddr(got)
		if err != nil {
			return // an unparsable peer is its own key
		}
		if peer, _ := netip.ParseAddrPort(remote); peer.IsValid() && !s.trusted(peer.Addr().Unmap()) && a != peer.Addr().Unmap() {
			t.Fatalf("peer %s is not a trusted proxy, yet the client is %s (X-Forwarded-For %q)", remote, got, xff)
		}
		host, _, err := net.SplitHostPort(remote)
		if err != nil {
			host = remote
		}
		// The peer is taken as written (a zone may end in a space); the
		// hops of X-Forwarded-For are trimmed, as the header's list allows.
		seen := false
		if h, err := netip.ParseAddr(host); err == nil && h.Unmap() == a {
			seen = true
		}
		for _, hop := range strings.Split(xff, ",") {
			if h, err := netip.ParseAddr(strings.TrimSpace(hop)); err == nil && h.Unmap() == a {
				seen = true
			}
		}
		if !seen {
			t.Fatalf("client %s is neither the peer %q nor in X-Forwarded-For %q", got, remote, xff)
		}
	})
}
