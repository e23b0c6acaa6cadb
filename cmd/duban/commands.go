package main

import (
	"bufio"
	"context"
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
  person list [--agency A] [--role R]
                                      list people
  person bind-code ID                 make a /start code for a person's Telegram chat
  person token ID [--name N] [--expires DATE]
                                      make a personal API token (shown once); DATE is
                                      2006-01-02 (valid through that day) or a time
  person login ID LOGIN               give a person a web sign-in name ("" takes it away)
  person password ID                  set a person's web password, read from standard input
                                      (one line, at least 12 characters)
  person deactivate ID                deactivate a person

Every command takes --config FILE (or DUBAN_CONFIG); environment variables win.
Only serve and import open Redis and the chat platforms; the others need
just the database.`

// cliActor is the operator at the command line: the admin's powers,
// audited as "cli" (access.go).
var cliActor = duban.System("cli")

// session is one run of the command line.
type session struct {
	getenv func(string) string
	out    io.Writer
}

// command is one of the commands of usage: its words, and the function
// that parses its own flags and runs it.
type command struct {
	name string
	run  func(ctx context.Context, c *session, name string, args []string) error
}

var commands = []command{
	{"serve", serve},
	{"migrate", migrate},
	{"import hearings", importHearings},
	{"agency add", agencyAdd},
	{"agency list", agencyList},
	{"person add", personAdd},
	{"person list", personList},
	{"person bind-code", personBindCode},
	{"person token", personToken},
	{"person login", personLogin},
	{"person password", personPassword},
	{"person deactivate", personDeactivate},
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(out, usage)
		return nil
	}
	c := &session{getenv: getenv, out: out}
	for _, cmd := range commands {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmd.name {
			return cmd.run(ctx, c, cmd.name, args[len(words):])
		}
	}
	return fmt.Errorf("unknown command %q\n%s", strings.Join(args, " "), usage)
}

// flags is the flag set of command name, with the --config every command
// takes.
func (c *session) flags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("duban "+name, flag.ContinueOnError)
	fs.SetOutput(c.out)
	return fs, fs.String("config", "", "YAML configuration file")
}

// parse parses args with fs, flags before, between or after the
// arguments (`person token 7 --name laptop`), and returns the arguments;
// after "--" everything is an argument.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// config loads the configuration: the --config file (or DUBAN_CONFIG),
// with the environment on top.
func (c *session) config(path string) (configs.Config, error) {
	return configs.Load(path, c.getenv)
}

// store opens and migrates the database of the configuration at path, and
// nothing else.
func (c *session) store(ctx context.Context, path string) (*storage.Store, configs.Config, error) {
	cfg, err := c.config(path)
	if err != nil {
		return nil, cfg, err
	}
	st, err := app.OpenStore(ctx, cfg, nil)
	return st, cfg, err
}

// table prints rows under a header, in aligned columns.
func (c *session) table(header string, rows func(w io.Writer)) error {
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	return tw.Flush()
}

// personID reads the one argument of a command on a person.
func personID(name string, args []string) (int64, error) {
	if len(args) != 1 {
		return 0, fmt.Errorf("usage: duban %s ID", name)
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a person id", args[0])
	}
	return id, nil
}

// noArgs refuses arguments to a command that takes none.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: duban %s (no arguments; got %q)", name, strings.Join(args, " "))
	}
	return nil
}

// serve runs the hub; --demo on embedded defaults with demo data.
func serve(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	demo := fs.Bool("demo", false, "seed demo data, short offsets, console channel")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(name, rest); err != nil {
		return err
	}
	cfg, err := c.config(*cfgPath)
	if err != nil {
		return err
	}
	demoToken := ""
	if *demo {
		if cfg, demoToken, err = app.DemoConfig(cfg); err != nil {
			return err
		}
	}
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
}

// migrate applies the database migrations: the database only.
func migrate(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(name, rest); err != nil {
		return err
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	st.Close()
	fmt.Fprintln(c.out, "migrations applied")
	return nil
}

// importHearings registers the hearings of a CSV file, all or none. It
// plans notices and schedules reminders, so it opens Redis and the
// channels as serve does.
func importHearings(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: duban import hearings FILE")
	}
	cfg, err := c.config(*cfgPath)
	if err != nil {
		return err
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := app.New(ctx, cfg, app.Options{Logger: app.NewLogger(io.Discard, "error", "text")})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Hearings.Import(ctx, cliActor, f, cfg.Location)
	var ve *duban.ValidationError
	if errors.As(err, &ve) {
		for _, d := range ve.Details {
			fmt.Fprintln(c.out, d.String())
		}
		return fmt.Errorf("nothing imported: %d problem(s)", len(ve.Details))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "imported: %d new, %d already registered\n", res.Created, res.Existing)
	return nil
}

// agencyAdd creates an agency.
func agencyAdd(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	parent := fs.String("parent", "", "parent agency code")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return errors.New("usage: duban agency add [--parent P] CODE NAME")
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	ag, err := jobs.NewAgencies(st).Add(ctx, cliActor, rest[0], rest[1], *parent)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "agency %s created (id %d)\n", ag.Code, ag.ID)
	return nil
}

// agencyList lists the agencies: the database only.
func agencyList(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(name, rest); err != nil {
		return err
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := jobs.NewAgencies(st).List(ctx, cliActor)
	if err != nil {
		return err
	}
	return c.table("CODE\tNAME\tACTIVE", func(w io.Writer) {
		for _, ag := range list {
			fmt.Fprintf(w, "%s\t%s\t%v\n", ag.Code, ag.Name, ag.Active)
		}
	})
}

// personAdd creates a person.
func personAdd(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	pname := fs.String("name", "", "person's name")
	roles := fs.String("roles", "", "comma-separated roles")
	agency := fs.String("agency", "", "agency code")
	tgChat := fs.Int64("telegram-chat-id", 0, "Telegram chat id")
	slackUser := fs.String("slack-user-id", "", "Slack user id")
	locale := fs.String("locale", duban.LocaleZH, "zh-CN or en")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(name, rest); err != nil {
		return err
	}
	f := jobs.PersonFields{Name: pname, Roles: &[]string{*roles}}
	loc := duban.NormalizeLocale(*locale)
	f.Locale = &loc
	if *agency != "" {
		f.Agency = &jobs.AgencyRef{Code: *agency}
	}
	if *tgChat != 0 {
		f.TelegramChatID = tgChat
	}
	if *slackUser != "" {
		f.SlackUserID = slackUser
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := jobs.NewPeople(jobs.PeopleDeps{Store: st}).Add(ctx, cliActor, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "person %d created\n", p.ID)
	return nil
}

// personList lists people: the database only.
func personList(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	var q jobs.PeopleQuery
	fs.StringVar(&q.Agency, "agency", "", "only people of this agency (code)")
	fs.StringVar(&q.Role, "role", "", "only people holding this role")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(name, rest); err != nil {
		return err
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := jobs.NewPeople(jobs.PeopleDeps{Store: st}).List(ctx, cliActor, q)
	if err != nil {
		return err
	}
	return c.table("ID\tNAME\tAGENCY\tROLES\tTELEGRAM\tSLACK\tACTIVE", func(w io.Writer) {
		for _, p := range list {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%v\t%v\t%v\n", p.ID, p.Name, p.AgencyCode, p.Roles, p.TelegramChatID != nil, p.SlackUserID != "", p.Active)
		}
	})
}

// credentials opens the database and the credential use cases on it.
func (c *session) credentials(ctx context.Context, path string) (*jobs.Credentials, *storage.Store, configs.Config, error) {
	st, cfg, err := c.store(ctx, path)
	if err != nil {
		return nil, nil, cfg, err
	}
	return jobs.NewCredentials(jobs.CredentialsDeps{Store: st, Loc: cfg.Location, BindCodeTTL: cfg.BindCodeTTL}), st, cfg, nil
}

// personBindCode makes a /start code for a person's chat.
func personBindCode(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	return c.forPerson(ctx, name, fs, cfgPath, args, func(_ *storage.Store, creds *jobs.Credentials, cfg configs.Config, id int64) error {
		bc, err := creds.BindCode(ctx, cliActor, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "send the bot: /start %s (valid until %s)\n", bc.Code, bc.ExpiresAt.In(cfg.Location).Format(time.DateTime))
		return nil
	})
}

// forPerson parses a command taking one person id and runs fn with the
// database and the credential use cases on it.
func (c *session) forPerson(ctx context.Context, name string, fs *flag.FlagSet, cfgPath *string, args []string,
	fn func(st *storage.Store, creds *jobs.Credentials, cfg configs.Config, id int64) error) error {
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := personID(name, rest)
	if err != nil {
		return err
	}
	creds, st, cfg, err := c.credentials(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, creds, cfg, id)
}

// personToken mints a personal API token and prints it, once.
func personToken(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	tname := fs.String("name", "", "what the token is for, e.g. laptop")
	expires := fs.String("expires", "", "2006-01-02 (valid through that day) or a time (RFC 3339, 2006-01-02 15:04); empty: never")
	return c.forPerson(ctx, name, fs, cfgPath, args, func(_ *storage.Store, creds *jobs.Credentials, cfg configs.Config, id int64) error {
		t, err := creds.MintToken(ctx, cliActor, id, jobs.TokenSpec{Name: *tname, ExpiresAt: throughDay(*expires, cfg.Location)})
		if err != nil {
			return err
		}
		fmt.Fprintln(c.out, t.Secret)
		return nil
	})
}

// throughDay turns a bare date into the moment that day ends in loc (a
// token "expiring 2027-06-30" works all that day); anything else is left
// for the use case to read.
func throughDay(s string, loc *time.Location) string {
	d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), loc)
	if err != nil {
		return s
	}
	return d.AddDate(0, 0, 1).Format(time.RFC3339)
}

// personDeactivate deactivates a person.
func personDeactivate(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	return c.forPerson(ctx, name, fs, cfgPath, args, func(st *storage.Store, _ *jobs.Credentials, _ configs.Config, id int64) error {
		p, err := jobs.NewPeople(jobs.PeopleDeps{Store: st}).Deactivate(ctx, cliActor, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "person %d deactivated\n", p.ID)
		return nil
	})
}

// stdin is where `person password` reads the password from; tests
// replace it.
var stdin io.Reader = os.Stdin

// personPassword sets a person's web password from one line of standard
// input (never an argument, which the shell's history and ps would keep).
func personPassword(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	return c.forPerson(ctx, name, fs, cfgPath, args, func(st *storage.Store, _ *jobs.Credentials, _ configs.Config, id int64) error {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the password from standard input: %w", err)
		}
		if err := jobs.SetPassword(ctx, st, cliActor, id, strings.TrimRight(line, "\r\n")); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "password of person %d set; their web sessions have ended\n", id)
		return nil
	})
}

// personLogin gives a person a web sign-in name, or takes it away.
func personLogin(ctx context.Context, c *session, name string, args []string) error {
	fs, cfgPath := c.flags(name)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return fmt.Errorf("usage: duban %s ID LOGIN", name)
	}
	id, err := personID(name, rest[:1])
	if err != nil {
		return err
	}
	st, _, err := c.store(ctx, *cfgPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := jobs.SetLogin(ctx, st, cliActor, id, rest[1]); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "login of person %d set\n", id)
	return nil
}
