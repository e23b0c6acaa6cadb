package notifier

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cityhall/duban"
)

func TestConsoleSend_PrintsOneLine(t *testing.T) {
	tests := []struct {
		name string
		addr duban.Address
		msg  duban.Message
		want string
	}{
		{
			"with buttons",
			duban.Address{Name: "王五"},
			reminder,
			"console: kind=reminder to=王五 ref=（2025）沪0101行初123号 | 【出庭应诉提醒】 / 案号：（2025）沪0101行初123号 [确认出庭] [委托出庭…] [详情]\n",
		},
		{
			"without buttons, CRLF flattened",
			duban.Address{Name: "Li Ming"},
			duban.Message{Kind: duban.MsgOutcomeRequest, Ref: "A-1", Text: "line one\r\nline two\nline three"},
			"console: kind=outcome_request to=Li Ming ref=A-1 | line one / line two / line three\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := NewConsole(&buf)
			id, err := c.Send(context.Background(), tt.addr, tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("printed\n%q\nwant\n%q", got, tt.want)
			}
			if id != "console:1" {
				t.Errorf("provider id = %q, want console:1", id)
			}
		})
	}
}

func TestConsoleSend_ConcurrentLinesDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf)
	var wg sync.WaitGroup
	ids := make([]string, 50)
	for i := range ids {
		wg.Go(func() {
			id, err := c.Send(context.Background(), duban.Address{Name: fmt.Sprint(i)}, duban.Message{Kind: duban.MsgNotice, Ref: "r", Text: "a\nb"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "console: kind=notice to=") || !strings.HasSuffix(l, " ref=r | a / b") {
			t.Errorf("garbled line %q", l)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("provider id %q given twice", id)
		}
		seen[id] = true
	}
}
