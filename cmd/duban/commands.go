package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

const usage = `usage: duban <command> [flags]

commands:
  serve [--config FILE] [--demo]      run the hub (HTTP, bots, workers)
  migrate [--config FILE]             apply database migrations
  import hearings FILE                register hearing notices from CSV (all or none)
  agency add [--parent P] CODE NAME   create an agency
  agency list                         list agencies
  person add --name N --roles R [--agency A] [--telegram-chat-id ID] [--slack-user-id U] [--locale en]
  person list                         list people
  person bind-code ID                 make a /start code for a person's Telegram chat
  person token ID                     make a personal API token (shown once)
  person deactivate ID                deactivate a person

Every command takes --config FILE (or DUBAN_CONFIG); environment variables win.`

func dispatch(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(out, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "agency" || cmd == "person" || cmd == "import") && len(rest) > 0 {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("duban "+cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	cfgPath := fs.String("config", "", "YAML configuration file")
	demo := fs.Bool("demo", false, "seed demo data, short offsets, console channel")
	parent := fs.String("parent", "", "parent agency code")
	name := fs.String("name", "", "person's name")
	roles := fs.String("roles", "", "comma-separated roles")
	agency := fs.String("agency", "", "agency code")
	tgChat := fs.Int64("telegram-chat-id", 0, "Telegram chat id")
	slackUser := fs.String("slack-user-id", "", "Slack user id")
	locale := fs.String("locale", duban.LocaleZH, "zh-CN or en")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	cfg, err := configs.Load(*cfgPath, getenv)
	if err != nil {
		return err
	}
	demoToken := ""
	if *demo {
		if cmd != "serve" {
			return errors.New("--demo is for serve")
		}
		if cfg, demoToken, err = app.DemoConfig(cfg); err != nil {
			return err
		}
	}
	switch cmd {
	case "serve":
		a, err := app.New(ctx, cfg, app.Options{})
		if err != nil {
			return err
		}
		if *demo {
			if err := app.SeedDemo(ctx, a, demoToken); err != nil {
				a.Close()
				return err
			}
		}
		return a.Run(ctx)
	case "migrate":
		a, err := app.New(ctx, cfg, app.Options{})
		if err != nil {
			return err
		}
		a.Close()
		fmt.Fprintln(out, "migrations applied")
		return nil
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: app.NewLogger(io.Discard, "error", "text")})
	if err != nil {
		return err
	}
	defer a.Close()
	sys := jobs.Actor{Name: "cli"}
	switch cmd {
	case "import hearings":
		if fs.NArg() != 1 {
			return errors.New("usage: duban import hearings FILE")
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		res, err := a.Hearings.Import(ctx, sys, f, cfg.Location)
		var ve *duban.ValidationError
		if errors.As(err, &ve) {
			for _, d := range ve.Details {
				fmt.Fprintln(out, d.String())
			}
			return fmt.Errorf("nothing imported: %d problem(s)", len(ve.Details))
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported: %d new, %d already registered\n", res.Created, res.Existing)
		return nil
	case "agency add":
		if fs.NArg() != 2 {
			return errors.New("usage: duban agency add [--parent P] CODE NAME")
		}
		if err := duban.ValidateAgency(fs.Arg(0), fs.Arg(1)); err != nil {
			return err
		}
		ag := &duban.Agency{Code: fs.Arg(0), Name: fs.Arg(1)}
		if *parent != "" {
			p, err := a.Store.AgencyByCode(ctx, *parent)
			if err != nil {
				return err
			}
			ag.ParentID = &p.ID
		}
		if err := a.Store.CreateAgency(ctx, ag); err != nil {
			return err
		}
		fmt.Fprintf(out, "agency %s created (id %d)\n", ag.Code, ag.ID)
		return a.Store.Audit(ctx, "cli", "agency.create", "agency:"+ag.Code, "")
	case "agency list":
		list, err := a.Store.Agencies(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tNAME\tACTIVE")
		for _, ag := range list {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", ag.Code, ag.Name, ag.Active)
		}
		return tw.Flush()
	case "person add":
		rs, err := duban.ParseRoles(*roles)
		if err != nil {
			return err
		}
		p := &duban.Person{Name: strings.TrimSpace(*name), Roles: rs, SlackUserID: *slackUser, Locale: duban.NormalizeLocale(*locale)}
		if *agency != "" {
			ag, err := a.Store.AgencyByCode(ctx, *agency)
			if err != nil {
				return err
			}
			p.AgencyID = &ag.ID
		}
		if *tgChat != 0 {
			p.TelegramChatID = tgChat
			if *tgChat > 0 {
				p.TelegramUserID = tgChat
			}
		}
		if err := duban.ValidatePerson(p); err != nil {
			return err
		}
		if err := a.Store.CreatePerson(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(out, "person %d created\n", p.ID)
		return a.Store.Audit(ctx, "cli", "person.create", fmt.Sprintf("person:%d", p.ID), "")
	case "person list":
		list, err := a.Store.People(ctx, storage.PeopleFilter{})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tAGENCY\tROLES\tTELEGRAM\tSLACK\tACTIVE")
		for _, p := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%v\t%v\n", p.ID, p.Name, p.AgencyCode, p.Roles, p.TelegramChatID != nil, p.SlackUserID != "", p.Active)
		}
		return tw.Flush()
	case "person bind-code", "person token", "person deactivate":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: duban %s ID", cmd)
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a person id", fs.Arg(0))
		}
		p, err := a.Store.PersonByID(ctx, id)
		if err != nil {
			return err
		}
		switch cmd {
		case "person bind-code":
			code := randomCode()
			exp := a.Clock.Now().Add(cfg.BindCodeTTL)
			if err := a.Store.CreateBindCode(ctx, p.ID, code, exp); err != nil {
				return err
			}
			fmt.Fprintf(out, "send the bot: /start %s (valid until %s)\n", code, exp.In(cfg.Location).Format(time.DateTime))
		case "person token":
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			tok := "dbn_" + base64.RawURLEncoding.EncodeToString(b)
			sum := sha256.Sum256([]byte(tok))
			if err := a.Store.CreateToken(ctx, p.ID, hex.EncodeToString(sum[:])); err != nil {
				return err
			}
			fmt.Fprintln(out, tok)
		case "person deactivate":
			p.Active = false
			if err := a.Store.UpdatePerson(ctx, p); err != nil {
				return err
			}
			fmt.Fprintf(out, "person %d deactivated\n", p.ID)
		}
		return a.Store.Audit(ctx, "cli", strings.ReplaceAll(cmd, " ", "."), fmt.Sprintf("person:%d", p.ID), "")
	}
	return fmt.Errorf("unknown command %q\n%s", strings.Join(args, " "), usage)
}

// randomCode is 8 Crockford base32 symbols: easy to type, 40 random bits.
func randomCode() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%32]
	}
	return string(b)
}
