package main

import (
	"context"
	"errors"
)

var errTodo = errors.New("not built yet")

func kills(ctx context.Context, h *harness, r *result) error          { return errTodo }
func redisFaults(ctx context.Context, h *harness, r *result) error    { return errTodo }
func databaseStop(ctx context.Context, h *harness, r *result) error   { return errTodo }
func providerFaults(ctx context.Context, h *harness, r *result) error { return errTodo }
func replicas(ctx context.Context, h *harness, r *result) error       { return errTodo }
