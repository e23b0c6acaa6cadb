// Package duban is the domain of the duban notification hub: agencies,
// people, court hearings and their reminders, deliveries of messages, and the
// rules that move them between states. It does no I/O; storage, jobs,
// notifier, bot and api adapt the outside world to these nouns.
package duban
