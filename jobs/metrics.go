package jobs

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/notifier"
)

// Metrics are the job side's Prometheus collectors.
type Metrics struct {
	Sends       *prometheus.CounterVec
	SendSeconds *prometheus.HistogramVec
	Lateness    *prometheus.HistogramVec
	Escalations prometheus.Counter
	Uncertain   prometheus.Gauge
	Reconciled  *prometheus.CounterVec
	// Repeats counts deliveries sent again as possible repeats, by why:
	// their sender crashed mid-call, or the connection dropped after the
	// request left.
	Repeats *prometheus.CounterVec
}

// The reasons of a possible repeat (Metrics.Repeats).
const (
	repeatCrash      = "crash"
	repeatConnection = "connection"
)

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered, as in tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_sends_total",
			Help: "Calls to providers by channel and result (sent, rate_limited, permanent, transient)."}, []string{"channel", "result"}),
		SendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duban_send_seconds",
			Help: "Time of one provider call.", Buckets: prometheus.DefBuckets}, []string{"channel"}),
		Lateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duban_reminder_lateness_seconds",
			Help:    "How long after its due time a timed step was handled.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10, 30, 60, 300}}, []string{"kind"}),
		Escalations: prometheus.NewCounter(prometheus.CounterOpts{Name: "duban_escalations_total",
			Help: "Escalations of unanswered or unreachable heads."}),
		Uncertain: prometheus.NewGauge(prometheus.GaugeOpts{Name: "duban_deliveries_uncertain",
			Help: "Deliveries left sending by a crash between the provider call and its record."}),
		Reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_reconcile_enqueued_total",
			Help: "Tasks re-enqueued from the database by reconcile passes."}, []string{"type"}),
		Repeats: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "duban_deliveries_possible_repeats_total",
			Help: "Deliveries sent again marked as possible repeats: their sender crashed mid-call (crash), or the connection dropped after the request left (connection)."}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.Sends, m.SendSeconds, m.Lateness, m.Escalations, m.Uncertain, m.Reconciled, m.Repeats)
	}
	return m
}

func (m *Metrics) observeSend(ch duban.Channel, err error, d time.Duration) {
	result := "sent"
	var perm *notifier.PermanentError
	switch {
	case err == nil:
	case errors.As(err, &perm):
		result = "permanent"
	default:
		if _, ok := notifier.RetryAfter(err); ok {
			result = "rate_limited"
		} else {
			result = "transient"
		}
	}
	m.Sends.WithLabelValues(string(ch), result).Inc()
	m.SendSeconds.WithLabelValues(string(ch)).Observe(d.Seconds())
}

func (m *Metrics) observeLateness(k duban.ReminderKind, d time.Duration) {
	m.Lateness.WithLabelValues(string(k)).Observe(d.Seconds())
}
