// Package dora computes the DORA metrics of a service (or of every service)
// in one environment over one window, and rates them against a versioned
// tier table. It is pure: no AWS, no clock, no I/O. Compute takes the
// deployments and incidents in domain terms and returns a Report, the body
// of GET /metrics/dora; the scheduled job and the API call the same function.
//
// The tools that compute these metrics disagree (median or mean, which
// clock, how an incident is tied to a deployment), and what their users
// complain about most is exactly that: a change failure rate above 100 %,
// incidents tied to deployments by a regular expression or not at all,
// medians without sample sizes. So every definition is written down here,
// every value comes with its sample size (n, or numerator and denominator),
// and a value with no data behind it is null, never 0.
//
// # Scope and window
//
// A scope is a service in an environment, or every service in an
// environment; the environment defaults to production, and a deployment or
// incident that names none is in production. The window is [start, end) in
// UTC. A span (a lead time, a time to restore…) counts in the window its end
// falls in: a deployment counts where it finished, a time to restore where
// the incident was resolved, a time to acknowledge where it was
// acknowledged; an incident is counted (by severity) where it started.
//
// A deployment counts once it has finished: status succeeded, failed or
// rolled_back and a finished_at. One in any other state is left out.
//
// # Deployment frequency
//
// per_day = successful deployments that finished in the window ÷ the
// window's length in days (deployments and days are returned). Null when
// there is no successful deployment. The bucket is the DORA survey's answer
// per_day falls in: on_demand (more than once a day), daily_to_weekly (once
// a day to once a week), weekly_to_monthly (less than once a week to once a
// month), monthly_to_six_monthly (less than once a month to once in six
// months), rarer; a month is 30 days, six months 180, and an edge both
// neighbouring answers claim goes to the more frequent one.
//
// deploy_days_per_week_median: the window is cut into 24-hour days counted
// back from its end (calendar days in UTC when the window is aligned on
// midnight, as the scheduled job's are); a deploy day is a day in which a
// successful deployment finished (deploy_days counts them). The full 7-day
// weeks counted back from the end (weeks; a remainder at the start is left
// out) each have 0 to 7 deploy days; the median of those. Null when there is
// no full week or no successful deployment.
//
// # Lead time for changes
//
// Per change (a pull request: pr_created_at, pr_merged_at, commit_sha),
// from the pull request's creation to the finished_at of the first
// successful deployment, in the scope, that shipped it. A change is
// identified by its service and commit SHA, so a redeploy of the same commit
// (a re-run pipeline, a rollback and a roll forward) ships nothing new, while
// its first deployment to staging is outside a production scope; a change without a SHA counts where it appears. A
// change counts in the window when its first successful deployment finished
// in it; the deployments of the input before the window decide what was
// shipped before (so give the store's earlier deployments too, as far back
// as changes may be redeployed).
//
// The lead time is median_seconds and p90_seconds over the n changes;
// the breakdown is review time (pr_merged_at − pr_created_at,
// review_median_seconds over review_n) and delivery time (finished_at −
// pr_merged_at, delivery_median_seconds over delivery_n). A negative span (a
// pull request opened after the deployment that shipped its commit, clock
// skew) is dropped and counted: negative, review_negative,
// delivery_negative. A change without pr_created_at has no lead time and is
// counted in unknown_start; changes = n + negative + unknown_start.
//
// # Medians and p90
//
// Median: the middle value; of an even count, the mean of the two middle
// values (1, 2, 3, 4 → 2.5). p90: nearest rank, the ⌈0.9·n⌉-th smallest
// value, always a value of the sample (of fewer than 10 values, the
// largest). Both are functions of their own (Median, P90), computed by
// selection in linear time.
//
// # Change failure rate
//
// ratio = failed ÷ total over the deployments in the scope that finished in
// the window, whatever their status. A deployment failed if its status is
// failed or rolled_back (failed_by_status), or if an incident is linked to it
// (failed_by_incident, of which suspected were linked only by suspicion).
// Each deployment counts once however many incidents point at it, so the
// ratio is in [0, 1]. Null when total is 0.
//
// An incident is linked to a deployment explicitly (cause_deployment_id, via
// the API or the post-mortem), whatever the incident's service: a
// deployment of payments can break search. Otherwise it is linked, marked
// suspected, to the latest successful deployment of its own service and
// environment that finished within the suspect window before it started
// (started_at − window ≤ finished_at ≤ started_at; default 4 hours, set per
// request; of two at the same instant, the greater id); none if there is no
// such deployment. An explicit link always wins, even to a deployment the
// input does not hold. LinkIncident is the rule for one incident.
//
// # Time to restore, failed deployment recovery time
//
// Time to restore service: the median of resolved_at − started_at over the
// scope's incidents resolved in the window. Failed deployment recovery time
// (DORA's fourth key since 2023): the median of resolved_at − the linked
// deployment's finished_at over the incidents linked (explicitly or
// suspected) to a deployment of the scope and resolved in the window. Both
// have n and negative (dropped), and a tier from the table's recovery bands.
//
// # Beyond the four
//
// Time to acknowledge: the median of acknowledged_at − started_at over the
// scope's incidents acknowledged in the window (n, negative). Incidents: the
// scope's incidents that started in the window, total and by_severity (one
// without a severity counts as "unknown"). Rework rate: deployments marked
// hotfix or rollback ÷ deployments, over the same deployments as the change
// failure rate (a rollback marker says the deployment undoes another; the
// status rolled_back says the deployment itself was undone).
//
// # Names
//
// DORA renamed some metrics over the years; the report keeps the names of
// DESIGN §7 and these are the same thing: change fail rate =
// change_failure_rate; change lead time = lead_time; failed deployment
// recovery time = failed_deployment_recovery_time (a field of its own, next
// to time_to_restore, the older "time to restore service" / MTTR); deployment
// frequency = deployment_frequency; rework rate = rework_rate.
//
// # Tiers
//
// Two tables, selected per request: "2021" (the default) and "2023". Each
// rates per_day (deployment frequency), the median lead time, the change
// failure rate, and the median time to restore and failed deployment
// recovery time. The reports print bands with gaps and overlaps; each gap is
// closed towards the better tier, an edge the report's text gives to one
// side stays there, and an edge both sides or neither claim goes to the
// better tier. Markdown renders the resulting bands (the README prints them).
//
// Accelerate State of DevOps 2021, as printed: deployment frequency elite
// "on demand (multiple deploys per day)", high "between once per week and
// once per month", medium "between once per month and once every six
// months", low "fewer than once per six months"; lead time elite "less than
// one hour", high "between one day and one week", medium "between one month
// and six months", low "more than six months"; time to restore elite "less
// than one hour", high "less than one day", medium "between one day and one
// week", low "more than six months"; change failure rate elite "0–15 %",
// high, medium and low all "16–30 %". Gap-free:
//   - deployment frequency: elite more than once a week (the gap down from
//     "multiple per day" is elite's), high once a week to once a month,
//     medium less than once a month to once in six months, low rarer;
//   - lead time: elite < 1 day (the gap from 1 hour), high 1 day to < 1
//     month (the gap from 1 week), medium 1 month to 6 months, low more;
//   - change failure rate: elite < 16 % (the gap from 15 %), high 16 % to
//     30 %, medium none (the report gives it high's band, and high is
//     better), low above 30 % (which the report leaves to nobody);
//   - recovery: elite < 1 hour, high 1 hour to < 1 day, medium 1 day to 6
//     months (the gap from 1 week), low more.
//
// Accelerate State of DevOps 2023, as DESIGN §7 reads it: lead time < 1 day
// / < 1 week / < 1 month; change failure rate ≤ 5 / 10 / 15 %; recovery
// < 1 hour / < 1 day / < 1 week; low beyond. Its deployment frequency, read
// from the survey's answers: elite on demand (more than once a day), high
// once a day to once a week, medium less than once a week to once a month,
// low rarer (the report prints low with medium's band; read as everything
// below it).
//
// Once a week exactly is daily_to_weekly as a bucket (both answers claim it,
// the more frequent wins) but high in 2021, whose text gives it to high.
package dora
