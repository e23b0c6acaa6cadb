package api

import (
	"net/http"
	"net/netip"
)

// ClientAddr returns the function that finds the address a request comes
// from, as the API's per-address limits count it: the peer, or behind
// trusted proxies the nearest address in X-Forwarded-For that is not one.
// The web pages' sign-in lock-out counts by the same address.
func ClientAddr(trusted []netip.Prefix) func(*http.Request) string {
	s := &server{Deps: Deps{TrustedProxies: trusted}}
	return s.clientAddr
}
