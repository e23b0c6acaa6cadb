package notifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
)

func TestSendersFor_KeepsOrderAndSkipsWhatCannotReach(t *testing.T) {
	senders := Senders{
		duban.ChannelTelegram: NewTelegram(nil, "t"),
		duban.ChannelSlack:    NewSlack(nil),
		duban.ChannelConsole:  NewConsole(io.Discard),
	}
	order := []duban.Channel{duban.ChannelTelegram, duban.ChannelSlack, duban.ChannelWebhook, duban.ChannelConsole}
	tests := []struct {
		name string
		addr duban.Address
		want []duban.Channel
	}{
		{"both chats", duban.Address{TelegramChatID: 1, SlackUserID: "U1"}, order[:2:2]},
		{"Slack only", duban.Address{SlackUserID: "U1"}, []duban.Channel{duban.ChannelSlack}},
		{"no chat ids", duban.Address{Name: "王五"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := senders.For(tt.addr, order[:3]) // without the console
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("For (-want +got):\n%s", diff)
			}
		})
	}
	if got := senders.For(duban.Address{}, []duban.Channel{duban.ChannelConsole, duban.ChannelTelegram}); !cmp.Equal(got, []duban.Channel{duban.ChannelConsole}) {
		t.Errorf("For with the console first = %v", got)
	}
}

func TestClassification_SeesThroughWrapping(t *testing.T) {
	base := errors.New("provider said no")
	tests := []struct {
		name      string
		err       error
		after     time.Duration
		limited   bool
		permanent bool
	}{
		{"rate limit", &RateLimitError{Channel: duban.ChannelSlack, RetryAfter: 5 * time.Second, Err: base}, 5 * time.Second, true, false},
		{"wrapped rate limit", fmt.Errorf("deliver: %w", &RateLimitError{RetryAfter: time.Second, Err: base}), time.Second, true, false},
		{"permanent", &PermanentError{Channel: duban.ChannelTelegram, Err: base}, 0, false, true},
		{"wrapped permanent", fmt.Errorf("deliver: %w", &PermanentError{Err: base}), 0, false, true},
		{"transient", base, 0, false, false},
		{"nil", nil, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, limited := RetryAfter(tt.err)
			if after != tt.after || limited != tt.limited {
				t.Errorf("RetryAfter = %v, %v; want %v, %v", after, limited, tt.after, tt.limited)
			}
			if IsPermanent(tt.err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", IsPermanent(tt.err), tt.permanent)
			}
			if tt.err != nil && !errors.Is(tt.err, base) {
				t.Error("errors.Is no longer reaches the provider's error")
			}
		})
	}
}

func TestUnreachable_IsPermanentAndNamesTheChannel(t *testing.T) {
	err := unreachable(duban.ChannelSlack)
	if !IsPermanent(err) || !errors.Is(err, ErrUnreachable) {
		t.Errorf("unreachable = %v", err)
	}
	if got, want := err.Error(), "slack: address not reachable on this channel (permanent)"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

func TestFunc_AdaptsFunctions(t *testing.T) {
	var got duban.Message
	f := Func{Chan: duban.ChannelWebhook, SendFunc: func(_ context.Context, _ duban.Address, m duban.Message) (string, error) {
		got = m
		return "fake:1", nil
	}}
	var s Sender = f
	if !s.Reachable(duban.Address{}) || s.Channel() != duban.ChannelWebhook {
		t.Error("Func without ReachableFunc must reach everyone on its channel")
	}
	if id, err := s.Send(context.Background(), duban.Address{}, reminder); id != "fake:1" || err != nil || got.Ref != reminder.Ref {
		t.Errorf("Send = %q, %v", id, err)
	}
}
