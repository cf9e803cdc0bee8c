package httpapi

import (
	"context"

	"balise/internal/ratelimit"
)

type clientKey struct{}

// WithClient stores the client a request is charged to (the admission
// middleware identifies it) for the handlers that charge batch work.
func WithClient(ctx context.Context, c ratelimit.Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// clientOf returns the request's client, ok false without one.
func clientOf(ctx context.Context) (ratelimit.Client, bool) {
	c, ok := ctx.Value(clientKey{}).(ratelimit.Client)
	return c, ok
}
