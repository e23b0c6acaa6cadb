// Command duban is the notification hub: `duban serve` runs everything;
// the other commands administer it from a shell.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "duban:", err)
		return 1
	}
	return 0
}
