package duban

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestChannelList_OrderAndValidate(t *testing.T) {
	global := []Channel{ChannelTelegram, ChannelSlack, ChannelEmail, ChannelWebhook, ChannelConsole}
	tests := []struct {
		list ChannelList
		want []Channel
	}{
		{nil, global},
		{ChannelList{ChannelEmail, ChannelTelegram}, []Channel{ChannelEmail, ChannelTelegram, ChannelWebhook, ChannelConsole}},
		{ChannelList{ChannelSlack}, []Channel{ChannelSlack, ChannelWebhook, ChannelConsole}},
	}
	for _, tt := range tests {
		if got := tt.list.Order(global); !slices.Equal(got, tt.want) {
			t.Errorf("%v.Order = %v, want %v", tt.list, got, tt.want)
		}
	}
	for _, bad := range []ChannelList{{"fax"}, {ChannelEmail, ChannelEmail}, {ChannelConsole}} {
		if bad.Validate() == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var l ChannelList
	if err := l.Scan("email, telegram"); err != nil || l.String() != "email,telegram" {
		t.Errorf("Scan: %v %q", err, l)
	}
}

func TestAnswerToken_SignedExpiringAndTamperProof(t *testing.T) {
	key := AnswerKey("a-test-secret-of-at-least-32-characters")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tok := AnswerToken{HearingAgencyID: 12, PersonID: 34, Expires: now.Add(time.Hour)}
	s := tok.Sign(key)
	got, err := ParseAnswerToken(key, s, now)
	if err != nil || got.HearingAgencyID != 12 || got.PersonID != 34 || !got.Expires.Equal(tok.Expires) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseAnswerToken(key, s, now.Add(time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("at expiry: %v", err)
	}
	b := []byte(s)
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 2
		if _, err := ParseAnswerToken(key, string(c), now); err == nil {
			t.Errorf("byte %d flipped: accepted", i)
		}
	}
	if _, err := ParseAnswerToken(AnswerKey("another-secret-of-at-least-32-chars!"), s, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("another key: %v", err)
	}
	if !errors.Is(ErrTokenInvalid, ErrUnauthorized) || !IsTokenError(ErrTokenExpired) {
		t.Error("token errors do not match ErrUnauthorized")
	}
}
