package notifier

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/cityhall/duban"
)

// Console prints every message as one line, for `serve --demo` and for
// operators trying duban without a bot:
//
//	console: kind=reminder to=王五 ref=（2025）沪0101行初123号 | 【出庭应诉提醒】… / 案号：… [确认出庭] [委托出庭…] [详情]
//
// It reaches every address and is safe for concurrent use.
type Console struct {
	mu sync.Mutex
	w  io.Writer
	n  int64
}

// NewConsole returns a console writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Channel returns duban.ChannelConsole.
func (c *Console) Channel() duban.Channel { return duban.ChannelConsole }

// Reachable is true for every address.
func (c *Console) Reachable(duban.Address) bool { return true }

// lineBreaks flattens a message onto one line.
var lineBreaks = strings.NewReplacer("\r\n", " / ", "\n", " / ", "\r", " / ")

// Send prints msg and returns "console:<n>", n counting from 1.
func (c *Console) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "console: kind=%s to=%s ref=%s | %s", msg.Kind, lineBreaks.Replace(addr.Name), lineBreaks.Replace(msg.Ref), lineBreaks.Replace(msg.Text))
	for _, row := range msg.Buttons {
		for _, btn := range row {
			b.WriteString(" [" + lineBreaks.Replace(btn.Label) + "]")
		}
	}
	b.WriteByte('\n')

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.w, b.String()); err != nil {
		return "", fmt.Errorf("console: write: %w", err)
	}
	c.n++
	return "console:" + strconv.FormatInt(c.n, 10), nil
}
