package server

import (
	"errors"
	"net/http"
	"strconv"

	"balise/internal/admission"
	"balise/internal/httpapi"
	"balise/internal/ratelimit"
	"balise/internal/telemetry"
)

// workOf is how admission control sees a request: the work of its route
// (httpapi's route table); preflights and unknown paths are Light, never
// limited (GET /metrics is not the API's).
func workOf(r *http.Request) httpapi.Work {
	if r.Method == http.MethodOptions {
		return httpapi.Light
	}
	rt, _ := httpapi.RouteOf(r.URL.Path) // none: the zero Route, Light
	return rt.Work
}

// Admit is admission control, in front of the API and inside the
// telemetry middlewares (refusals are counted and logged like any
// answer). In order, cheapest first:
//
//  1. the client is identified (its address, or its API key: an unknown
//     key is a 401) and, for interactive routes, charged one unit of its
//     interactive budget: a refusal is a 429 with Retry-After and the
//     RateLimit headers. Batch routes are charged by the handler, per CSV
//     row or /batch item, once their size is known;
//  2. the request takes an interactive slot or a batch job slot of the
//     admission controller: a refusal (saturated, draining) is a 503 with
//     Retry-After, answered at once.
//
// Either part may be nil (off).
func Admit(limiter *ratelimit.Limiter, ctrl *admission.Controller, flavour httpapi.Flavour) Middleware {
	return func(next http.Handler) http.Handler {
		if limiter == nil && ctrl == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			work := workOf(r)
			if work == httpapi.Light {
				next.ServeHTTP(w, r)
				return
			}
			if limiter != nil {
				c, err := limiter.Identify(r)
				if err != nil {
					httpapi.WriteError(w, flavour, http.StatusUnauthorized, "401 Unauthorized",
						"Unknown API key.", "Unknown API key")
					return
				}
				if work == httpapi.Interactive {
					d := limiter.Allow(r.Context(), c, ratelimit.Interactive, 1)
					d.WriteHeaders(w.Header())
					if !d.Allowed {
						refuse(w, r, flavour, http.StatusTooManyRequests, d.RetryAfterSeconds(), "429 Too Many Requests", d.Reason())
						return
					}
				}
				r = r.WithContext(httpapi.WithClient(r.Context(), c))
			}
			acquire := ctrl.AcquireInteractive
			if work == httpapi.Batch {
				acquire = ctrl.AcquireBatchJob
			}
			release, err := acquire(r.Context())
			if err != nil {
				var rej *admission.Rejection
				if errors.As(err, &rej) {
					refuse(w, r, flavour, http.StatusServiceUnavailable, rej.RetryAfterSeconds(), "503 Service Unavailable",
						"The server is at capacity; retry in "+strconv.Itoa(rej.RetryAfterSeconds())+" s.")
				}
				return // otherwise the client is gone: nobody reads an answer
			}
			defer release()
			next.ServeHTTP(w, r)
		})
	}
}

// refuse answers a refusal in the flavour's error shape, with Retry-After.
func refuse(w http.ResponseWriter, r *http.Request, flavour httpapi.Flavour, status, retryAfter int, title, msg string) {
	telemetry.RequestInfoFrom(r.Context()).SetRoute(httpapi.RouteName(r.URL.Path))
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	httpapi.WriteError(w, flavour, status, title, msg, msg)
}
