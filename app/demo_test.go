package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
)

// TestServeDemo_PrintsATokenOnlyWhenItMadeIt: serve --demo prints the admin
// token it generated, and never one the operator set.
func TestServeDemo_PrintsATokenOnlyWhenItMadeIt(t *testing.T) {
	own := strings.Repeat("operator-token-", 3)
	for _, tt := range []struct {
		name  string
		token string
	}{{"generated", ""}, {"operator's own", own}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, backends[0], func(c *configs.Config) { c.AdminToken = configs.Secret(tt.token) })
			cfg, generated, err := app.DemoConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if (generated == "") != (tt.token != "") || cfg.AdminToken.Reveal() == "" {
				t.Fatalf("generated %q with DUBAN_ADMIN_TOKEN %q", generated, tt.token)
			}
			if generated != "" && len(generated) < configs.MinAdminTokenLen {
				t.Errorf("generated token of %d characters", len(generated))
			}
			var logs bytes.Buffer
			a, err := app.New(context.Background(), cfg, app.Options{Logger: app.NewLogger(&logs, "info", "text"), Stdout: &bytes.Buffer{}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := app.SeedDemo(context.Background(), a, generated); err != nil {
				t.Fatal(err)
			}
			line := ""
			for l := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(l, "demo seeded") {
					line = l
				}
			}
			switch {
			case line == "":
				t.Fatalf("no demo seeded line:\n%s", logs.String())
			case tt.token == "" && !strings.Contains(line, "admin_token="+generated):
				t.Errorf("generated token not printed: %s", line)
			case tt.token != "" && (strings.Contains(line, "admin_token") || strings.Contains(logs.String(), own)):
				t.Errorf("operator's token printed: %s", line)
			}
		})
	}
}
