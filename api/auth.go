package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/ratelimit"
)

// adminActor is the bootstrap admin of DUBAN_ADMIN_TOKEN: a system actor,
// allowed everything.
const adminActor = "admin"

// Failed credentials (docs/API.md, Limits on public doors): 20 wrong bearer tokens a minute from
// one address, then 429 for a minute.
const (
	authFailLimit  = 20
	authFailWindow = time.Minute
)

// authenticate finds the actor of a request's bearer token: the bootstrap
// admin, or the active person who owns the token.
func (s *server) authenticate(r *http.Request) (jobs.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return jobs.Actor{}, errorf(http.StatusUnauthorized, "send a token as Authorization: Bearer <token>")
	}
	return s.credential(r, token)
}

// credential finds the actor a presented token stands for. An address
// that sent authFailLimit wrong tokens within authFailWindow gets 429 for
// the next authFailWindow, whatever it sends: otherwise a guess that
// worked would stand out among the refusals. An unknown, revoked or
// expired token, or one of a deactivated person, is a 401 and counts.
func (s *server) credential(r *http.Request, token string) (jobs.Actor, error) {
	ctx := r.Context()
	key := "auth:" + s.clientAddr(r)
	if s.Limiter != nil {
		n, left, err := s.Limiter.Count(ctx, key)
		if err != nil {
			// Redis is down: refusing every caller would not protect
			// anything the queue's own outage does not already stop.
			s.log.Warn("failed-credentials limit unavailable", slog.Any("error", err))
		} else if n >= authFailLimit {
			return jobs.Actor{}, tooMany(left, "too many wrong tokens from your address; try again later")
		}
	}
	if s.AdminToken != "" && equalSecret(token, s.AdminToken) {
		return jobs.Actor{Name: adminActor}, nil
	}
	p, err := s.Store.PersonByTokenHash(ctx, HashToken(token), s.Clock.Now())
	if errors.Is(err, duban.ErrNotFound) {
		if s.Limiter != nil {
			if _, _, err := s.Limiter.Allow(ctx, key, authFailLimit, authFailWindow); err != nil {
				s.log.Warn("failed-credentials limit unavailable", slog.Any("error", err))
			}
		}
		return jobs.Actor{}, errorf(http.StatusUnauthorized, "the token is unknown, revoked or expired, or its owner is deactivated")
	}
	if err != nil {
		return jobs.Actor{}, err
	}
	return jobs.Actor{Person: p}, nil
}

// actorOf is the rule book's actor of a request.
func actorOf(a jobs.Actor) duban.Actor { return duban.Actor{Person: a.Person, Name: a.Name} }

// equalSecret compares in constant time; hashing first hides the length.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// HashToken is what the store keeps of a personal token (jobs.HashToken).
func HashToken(token string) string { return jobs.HashToken(token) }

// clientAddr is the address a request comes from, for per-address limits:
// the peer, or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (read from the right, since a client
// can put anything on the left).
func (s *server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: the last address vouched for is the client
		}
		peer = hop.Unmap()
		if !s.trusted(peer) {
			break
		}
	}
	return peer.String()
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limit counts one hit of key against rate and answers 429 past it. Without
// a Limiter, or with Redis unreachable, it lets the hit through (logged).
func (s *server) limit(ctx context.Context, key string, rate ratelimit.Rate) error {
	if s.Limiter == nil {
		return nil
	}
	ok, retry, err := s.Limiter.Allow(ctx, key, rate.Limit, rate.Window)
	if err != nil {
		s.log.Warn("rate limit unavailable", slog.String("limit", key), slog.Any("error", err))
		return nil
	}
	if !ok {
		return tooMany(retry, "too many requests from your address (at most %s); try again later", rate)
	}
	return nil
}
