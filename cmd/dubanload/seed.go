package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// city is the size of the city the memory mode seeds: a few years of a
// hotline's complaints, the court hearings of the coming weeks with their
// pending reminders, and the hearings of the last two years.
type city struct {
	Agencies     int // defendant agencies, each with a head, a deputy and two handlers
	Complaints   int // spread over Years up to now
	Years        int
	Reminders    int // pending reminders wanted, due over the coming eight weeks
	PastHearings int // held or cancelled, over the last two years
}

// seedZone is the zone the seed reads local days in: duban's default
// DUBAN_TIMEZONE, which the harness leaves alone.
const seedZone = "Asia/Shanghai"

// upcomingDays is how far ahead the seeded hearings start.
const upcomingDays = 56

// pendingPerHearing is how many pending steps an upcoming hearing has on
// average with the product's default policy (reminders 168h, 72h, 24h and
// 2h ahead, the escalation check 24h ahead, the outcome request 4h after):
// 5.79 per defendant agency for starts spread over eight weeks, and 4/3
// defendant agencies a hearing.
const pendingPerHearing = 7.7

// crockford is the alphabet of tracking codes (tracking.go).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// seedStep is one statement of the seed, named for the record.
type seedStep struct {
	name string
	sql  string
}

// seedCity fills the migrated database at dbURL, in SQL (INSERT …
// SELECT over generate_series, on one connection), as a city's duban
// would hold it after a few years: agencies and their people, complaints
// in every state with their timelines, text bigrams and the SLA marks of
// what was already urged, escalated and followed up, and the hearings
// ahead and behind with their reminders and the deliveries already sent.
// It leaves the reports' rollups to duban, which rebuilds them at its
// next start (stats_meta emptied, as after an upgrade). Each step's time
// goes to logf.
func seedCity(ctx context.Context, dbURL string, c city, now time.Time, logf func(format string, args ...any)) error {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // temporary tables and settings live on one connection
	if err != nil {
		return err
	}
	defer conn.Close()
	// A little over the pending reminders wanted, whatever the hour.
	upcoming := int(float64(c.Reminders)/pendingPerHearing) + c.Reminders/400 + 1
	// Tracking codes as NewTrackingCode makes them: 60 bits (of md5), 5 a symbol.
	code := make([]string, 12)
	for k := range code {
		code[k] = fmt.Sprintf("substr('%s', 1 + get_byte(b.md, %d) %% 32, 1)", crockford, k)
	}
	rep := strings.NewReplacer("{T0}", "'"+now.UTC().Format(time.RFC3339Nano)+"'::timestamptz", "{ZONE}", seedZone,
		"{N}", strconv.Itoa(c.Complaints), "{A}", strconv.Itoa(c.Agencies), "{SPAN}", strconv.Itoa(c.Years*365*86400),
		"{H}", strconv.Itoa(upcoming), "{HP}", strconv.Itoa(c.PastHearings), "{DAYS}", strconv.Itoa(upcomingDays),
		"{CODE}", strings.Join(code, " || "))
	steps := append(append(append([]seedStep{}, seedSettings...), seedPeople...), seedComplaints...)
	steps = append(append(steps, seedHearings...), seedFinish...)
	for _, st := range steps {
		start := time.Now()
		if _, err := conn.ExecContext(ctx, rep.Replace(st.sql)); err != nil {
			return fmt.Errorf("seed: %s: %w", st.name, err)
		}
		if d := time.Since(start); d > time.Second {
			logf("seed: %s: %s", st.name, d.Round(100*time.Millisecond))
		}
	}
	return nil
}

// seedSettings are the seed connection's. session_replication_role
// replica turns off the foreign keys' triggers (the seed's rows are
// consistent by construction): checked row by row they took most of the
// time (the bigrams' alone 7 minutes of a million complaints' 11).
var seedSettings = []seedStep{
	{"settings", `SET maintenance_work_mem = '512MB'; SET work_mem = '128MB'; SET synchronous_commit = off;
		SET session_replication_role = replica`},
}

var seedPeople = []seedStep{
	{"agencies", `INSERT INTO agencies (code, name, active, created_at, updated_at)
		SELECT 'M' || lpad(g::text, 3, '0'),
		       (ARRAY['市','区','县'])[1 + g % 3] || (ARRAY['公安局','市场监督管理局','城市管理局','交通运输局','生态环境局',
		       '住房和城乡建设局','卫生健康委员会','税务局','自然资源局','人力资源和社会保障局'])[1 + g % 10] || g || '分局',
		       true, {T0} - INTERVAL '6 years', {T0} - INTERVAL '6 years'
		FROM generate_series(1, {A}) g`},
	// Each agency: its head, a deputy and two handlers, all reached on
	// Telegram; the office: six legal-affairs staff and three supervisors.
	{"people", `INSERT INTO people (name, agency_id, roles, telegram_chat_id, locale, active, created_at, updated_at)
		SELECT r.title || a.code, a.id, r.role, 20000 + a.id * 10 + r.k, 'zh-CN', true, a.created_at, a.created_at
		FROM agencies a CROSS JOIN (VALUES (0, 'agency_head', '局长'), (1, 'deputy', '副局长'), (2, 'handler', '承办人甲'),
		     (3, 'handler', '承办人乙')) r(k, role, title)
		WHERE a.code LIKE 'M%'
		UNION ALL
		SELECT '法制办' || g, NULL, 'staff', 19000 + g, 'zh-CN', true, {T0} - INTERVAL '6 years', {T0} - INTERVAL '6 years'
		FROM generate_series(1, 6) g
		UNION ALL
		SELECT '督查室' || g, NULL, 'supervisor', 19100 + g, 'zh-CN', true, {T0} - INTERVAL '6 years', {T0} - INTERVAL '6 years'
		FROM generate_series(1, 3) g`},
	{"words", `CREATE TEMP TABLE words AS SELECT
		   ARRAY['执法人员','城管队员','交警','市场监管人员','税务人员','窗口工作人员','村干部','街道办人员','环保执法人员','卫生监督员',
		         '派出所民警','收费站','物业公司','供电所','自来水公司','学校','医院收费处','车管所','社保窗口','不动产登记中心'] AS who,
		   ARRAY['当场罚款五百元不开收据','多收取停车费','强制摊派报刊费用','对举报不予处理','办事推诿拖延','态度恶劣辱骂群众',
		         '要求重复提交材料','以罚代管','收费标准不公示','扣押车辆不出具清单','未出示执法证件','超范围检查','违规收取押金',
		         '拖延办理营业执照','要求购买指定商品','乱设收费项目','无故吊销许可','选择性执法','索要好处费','长期不予答复',
		         '推诿扯皮互相踢皮球','擅自提高收费标准','暴力执法','罚款不走程序','强制搭售保险','违规收取培训费','不按时发放补贴',
		         '排队三小时无人办理','网上办事系统长期故障','审批超过法定时限'] AS what,
		   ARRAY['人民路','解放路','中山路','建设路','和平路','新华路','胜利路','青年路','文化路','长江路','黄河路','南京路',
		         '北京路','东风路','朝阳路','光明路','幸福路','健康路','学院路','工业路'] AS road,
		   ARRAY['。','，希望尽快处理。','，已多次反映未果。','，请有关部门核实。','。','，影响很坏。','，要求退还费用。','。'] AS tail`},
}

// seedComplaints: Years of complaints up to now, about 700 a day. Those
// older than 60 days are settled (closed 90%, rejected 7%, merged 3%);
// the recent ones are spread over the open states by age, about 1% of
// the assigned ones past their time limit. Complaints closed more than the
// retention (three years) ago have their reporters erased, as the SLA
// check does.
var seedComplaints = []seedStep{
	{"complaints", `WITH ag AS (SELECT array_agg(id ORDER BY id) ids FROM agencies WHERE code LIKE 'M%'),
		     hd AS (SELECT array_agg(p.id ORDER BY p.agency_id, p.id) ids FROM people p JOIN agencies a ON a.id = p.agency_id
		            WHERE a.code LIKE 'M%' AND p.roles = 'handler')
		INSERT INTO complaints (tracking_code, status, source, category, agency_id, reported_agency_id, handler_id, description,
		  occurred_at, location, reporter_name, reporter_phone, reporter_chat_id, anonymous, outlet, link,
		  assigned_at, due_at, closed_at, rating, close_working_days, closed_on_time, contact_erased_at, created_at, updated_at)
		SELECT {CODE}, s.st, s.src,
		  (ARRAY['illegal_fine','illegal_fine','illegal_fee','illegal_fee','illegal_levy','inaction','inaction','inaction',
		         'abuse','abuse','efficiency','efficiency','efficiency','other'])[1 + b.h3 % 14],
		  CASE WHEN t.asg THEN ag.ids[s.aix] END,
		  CASE WHEN b.h3 < 450 THEN ag.ids[s.aix] WHEN b.h3 < 600 THEN ag.ids[1 + b.h3 % {A}] END,
		  CASE WHEN t.asg AND b.h3 % 10 < 7 THEN hd.ids[2 * s.aix - 1 + b.h3 % 2] END,
		  w.who[1 + abs(hashint4(i)::bigint) % 20] || w.what[1 + abs(hashint4(i + 7654321)::bigint) % 30] || '，地点' ||
		    w.road[1 + (i * 31) % 20] || (1 + (i * 17) % 300) || '号' || w.tail[1 + b.h2 % 8],
		  b.created - (b.h2 % 72) * INTERVAL '1 hour', w.road[1 + (i * 31) % 20] || (1 + (i * 17) % 300) || '号',
		  CASE WHEN e.erased OR s.anon OR s.src NOT IN ('hotline_call','npc_deputy','cppcc_member','other') THEN ''
		       ELSE (ARRAY['王','李','张','刘','陈','杨','赵','黄'])[1 + b.h3 % 8] || (ARRAY['先生','女士'])[1 + b.h2 % 2] END,
		  CASE WHEN e.erased OR s.anon OR s.src NOT IN ('hotline_call','open311') THEN ''
		       ELSE '13' || lpad((abs(hashint4(i + 11)::bigint) % 1000000000)::text, 9, '0') END,
		  CASE WHEN s.src = 'telegram' AND NOT e.erased THEN 7000000000 + i END,
		  s.anon, CASE WHEN s.src = 'media' THEN '城市晚报' ELSE '' END,
		  CASE WHEN s.src = 'media' THEN 'https://news.example.cn/a/' || i ELSE '' END,
		  CASE WHEN t.asg THEN t.assigned END, CASE WHEN t.asg THEN t.due END, t.ended,
		  CASE WHEN s.st = 'closed' AND b.h2 % 10 < 6 THEN (ARRAY[5,5,5,4,4,3,2,1,5,4])[1 + b.h3 % 10] END,
		  CASE WHEN s.st = 'closed' THEN floor(extract(epoch FROM t.ended - t.assigned) / 86400 * 5 / 7)::int END,
		  CASE WHEN s.st = 'closed' THEN t.ended <= t.due END,
		  CASE WHEN e.erased THEN t.ended + INTERVAL '1095 days' END,
		  b.created, COALESCE(t.ended, CASE WHEN t.asg THEN t.assigned END, b.created)
		FROM generate_series(1, {N}) i CROSS JOIN ag CROSS JOIN hd CROSS JOIN words w
		CROSS JOIN LATERAL (SELECT {T0} - (({N} - i)::float8 * {SPAN} / {N}) * INTERVAL '1 second'
		                           - (abs(hashint4(i)::bigint) % 3600) * INTERVAL '1 second' AS created,
		       abs(hashint4(i)::bigint) % 1000 AS h, abs(hashint4(i + 1000003)::bigint) % 1000 AS h2,
		       abs(hashint4(i + 2000003)::bigint) % 1000 AS h3, decode(md5('dubanload:' || i), 'hex') AS md OFFSET 0) b
		CROSS JOIN LATERAL (SELECT extract(epoch FROM {T0} - b.created) / 86400 AS age OFFSET 0) a
		CROSS JOIN LATERAL (SELECT CASE
		    WHEN a.age < 1 AND b.h < 300 THEN 'received'
		    WHEN a.age < 2 AND b.h < 450 THEN 'accepted'
		    WHEN a.age < 7 AND b.h < 600 THEN 'assigned'
		    WHEN a.age < 40 AND b.h < 10 THEN 'assigned'
		    WHEN a.age < 14 AND b.h < 750 THEN 'replied'
		    WHEN b.h < 900 THEN 'closed'
		    WHEN b.h < 970 THEN 'rejected'
		    ELSE 'merged' END AS st,
		  (ARRAY['hotline_call','hotline_call','hotline_call','hotline_call','hotline_call','hotline_call','hotline_call',
		         'hotline_call','hotline_call','telegram','telegram','telegram','telegram','telegram','open311','open311',
		         'media','npc_deputy','cppcc_member','other'])[1 + (b.h2 / 10) % 20] AS src,
		  b.h2 % 10 = 9 AS anon,
		  -- a few agencies draw most complaints
		  1 + floor({A} * power((abs(hashint4(i + 5)::bigint) % 10000) / 10000.0, 2))::int AS aix OFFSET 0) s
		CROSS JOIN LATERAL (SELECT s.st IN ('assigned','replied','closed') AS asg,
		  b.created + least(INTERVAL '1 day', ({T0} - b.created) * 0.2) AS assigned OFFSET 0) t0
		CROSS JOIN LATERAL (SELECT t0.asg, t0.assigned,
		  ((date_trunc('day', (t0.assigned + INTERVAL '7 days') AT TIME ZONE '{ZONE}') + INTERVAL '1 day' - INTERVAL '1 second')
		    AT TIME ZONE '{ZONE}') AS due,
		  CASE WHEN s.st = 'closed' THEN t0.assigned + least((2 + b.h2 % 10) * INTERVAL '1 day', ({T0} - t0.assigned) * 0.8)
		       WHEN s.st IN ('rejected','merged') THEN b.created + least(INTERVAL '1 day', ({T0} - b.created) * 0.5) END AS ended OFFSET 0) t
		CROSS JOIN LATERAL (SELECT s.st IN ('closed','rejected','merged') AND t.ended < {T0} - INTERVAL '1095 days' AS erased OFFSET 0) e
		ORDER BY i`},
	// A merged complaint names an earlier one that was not merged itself.
	{"merged into", `UPDATE complaints c SET merged_into = (SELECT max(o.id) FROM complaints o WHERE o.id < c.id AND o.status <> 'merged')
		WHERE c.status = 'merged'`},
	// The timeline: one statement an action, in the order they happen, so
	// that each complaint's events come in id order (storage.Events).
	{"events: receive", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT c.id, 'receive', CASE WHEN c.source IN ('telegram','open311') THEN 'system' ELSE 'person:' || st.ids[1 + c.id % 6] END,
		  c.created_at, c.source, true
		FROM complaints c, st ORDER BY c.id`},
	{"events: accept", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT c.id, 'accept', 'person:' || st.ids[1 + c.id % 6],
		  c.created_at + (COALESCE(c.assigned_at, c.closed_at, {T0}) - c.created_at) * 0.3, '', true
		FROM complaints c, st WHERE c.status NOT IN ('received','rejected') ORDER BY c.id`},
	{"events: assign", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public, agency_id)
		SELECT c.id, 'assign', 'person:' || st.ids[1 + c.id % 6], c.assigned_at, a.code || ', 5', true, c.agency_id
		FROM complaints c JOIN agencies a ON a.id = c.agency_id, st WHERE c.assigned_at IS NOT NULL ORDER BY c.id`},
	{"events: reply", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT c.id, 'reply', 'person:' || COALESCE(c.handler_id, st.ids[1 + c.id % 6]),
		  c.assigned_at + (COALESCE(c.closed_at, {T0}) - c.assigned_at) * 0.7,
		  (ARRAY['经核查，反映情况属实，已责令整改并退还相关费用。','经核查，执法程序合法，已向当事人解释说明。',
		         '已约谈相关责任人，责令限期整改。','已将处理结果电话告知反映人。'])[1 + c.id % 4], true
		FROM complaints c, st WHERE c.status IN ('replied','closed') ORDER BY c.id`},
	{"events: close, reject, merge", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT c.id, CASE c.status WHEN 'closed' THEN 'close' WHEN 'rejected' THEN 'reject' ELSE 'merge' END,
		  'person:' || st.ids[1 + c.id % 6], c.closed_at,
		  CASE c.status WHEN 'rejected' THEN '不属于受理范围，已告知向有关部门反映。' WHEN 'merged' THEN COALESCE(m.tracking_code, '') ELSE '' END, true
		FROM complaints c LEFT JOIN complaints m ON m.id = c.merged_into, st
		WHERE c.status IN ('closed','rejected','merged') ORDER BY c.id`},
	{"events: follow-up", `INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT id, 'note', 'system', closed_at + INTERVAL '1 day', 'follow-up asked', false
		FROM complaints WHERE status = 'closed' AND closed_at < {T0} - INTERVAL '1 day' ORDER BY id`},
	{"events: rate", `WITH st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		SELECT c.id, 'rate', CASE WHEN c.reporter_chat_id IS NOT NULL THEN 'reporter' ELSE 'person:' || st.ids[1 + c.id % 6] END,
		  least(c.closed_at + INTERVAL '2 days', {T0}), c.rating::text, false
		FROM complaints c, st WHERE c.rating IS NOT NULL ORDER BY c.id`},
	// What the SLA check already did, so that a start finds a city that
	// has been running: every closed complaint asked for its rating a day
	// after closing; the assigned ones near or past their limit urged;
	// today's escalation of the overdue ones done.
	{"sla marks", `INSERT INTO sla_marks (complaint_id, kind, day, at)
		SELECT id, 'followup', to_char(closed_at AT TIME ZONE '{ZONE}', 'YYYY-MM-DD"T"HH24:MI:SS'), closed_at + INTERVAL '1 day'
		FROM complaints WHERE status = 'closed' AND closed_at < {T0} - INTERVAL '1 day'
		UNION ALL
		SELECT id, 'urge', to_char(due_at AT TIME ZONE '{ZONE}', 'YYYY-MM-DD'), least(due_at - INTERVAL '1 day', {T0})
		FROM complaints WHERE status = 'assigned' AND due_at < {T0} + INTERVAL '2 days'
		UNION ALL
		SELECT id, 'escalate', to_char({T0} AT TIME ZONE '{ZONE}', 'YYYY-MM-DD'), {T0}
		FROM complaints WHERE status = 'assigned' AND due_at < {T0}`},
	// Text search's bigrams (migration 00008), in bulk: without their
	// indexes, built once at the end.
	{"grams: drop indexes", `ALTER TABLE complaint_grams DROP CONSTRAINT complaint_grams_pkey; DROP INDEX complaint_grams_complaint`},
	// Each bigram once a complaint: the first of its occurrences (strpos
	// finds it at k). The subqueries are kept apart (OFFSET 0) so that
	// the lower-cased text is made once a complaint, not once a bigram.
	{"grams", `INSERT INTO complaint_grams (gram, complaint_id)
		SELECT substr(s, k, 2), id
		FROM (SELECT id, s, generate_series(1, char_length(s) - 1) AS k
		      FROM (SELECT id, translate(description || E'\n' || tracking_code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
		              'abcdefghijklmnopqrstuvwxyz') AS s FROM complaints OFFSET 0) c
		      OFFSET 0) x
		WHERE strpos(left(s, k + 1), substr(s, k, 2)) = k`},
	{"grams: primary key", `ALTER TABLE complaint_grams ADD PRIMARY KEY (gram, complaint_id)`},
	{"grams: index", `CREATE INDEX complaint_grams_complaint ON complaint_grams (complaint_id)`},
}

// seedHearings: the hearings of the coming eight weeks, about equally
// many a day at 9:00–16:45 local time, each with its defendant agencies
// (a third have two) and the steps of the default policy; the steps due
// before now sent (or skipped: an escalation check of a head who
// answered), the rest pending. And the hearings of the last two years,
// held (one in twenty cancelled), with their outcomes. Every step sent
// has its delivery to the head, or to a staff member for outcomes.
var seedHearings = []seedStep{
	{"hearings", `INSERT INTO hearings (case_number, court, courtroom, starts_at, plaintiff, cause, status, created_at, updated_at)
		SELECT '(' || to_char(x.starts AT TIME ZONE '{ZONE}', 'YYYY') || ')沪01行初' || x.n || '号',
		  (ARRAY['市中级人民法院','区人民法院','铁路运输法院'])[1 + x.k % 3], '第' || (1 + x.k % 12) || '法庭', x.starts,
		  (ARRAY['王','李','张','刘','陈','杨','赵','黄'])[1 + x.k % 8] || '某', (ARRAY['行政处罚','行政强制','政府信息公开',
		  '行政许可','不履行法定职责','行政赔偿'])[1 + x.k % 6], x.status, x.created, x.created
		FROM (SELECT k, 10000 + k AS n, 'scheduled' AS status,
		        ((date_trunc('day', {T0} AT TIME ZONE '{ZONE}') + (1 + (k::bigint * {DAYS}) / {H}) * INTERVAL '1 day'
		          + INTERVAL '9 hours' + (k % 8) * INTERVAL '1 hour' + (k % 4) * INTERVAL '15 minutes') AT TIME ZONE '{ZONE}') AS starts
		      FROM generate_series(0, {H} - 1) k
		      UNION ALL
		      SELECT k, 500000 + k, CASE WHEN k % 20 = 0 THEN 'cancelled' ELSE 'held' END,
		        ((date_trunc('day', {T0} AT TIME ZONE '{ZONE}') - (1 + (k::bigint * 730) / {HP}) * INTERVAL '1 day'
		          + INTERVAL '9 hours' + (k % 8) * INTERVAL '1 hour') AT TIME ZONE '{ZONE}')
		      FROM generate_series(0, {HP} - 1) k) y
		CROSS JOIN LATERAL (SELECT y.k, y.n, y.status, y.starts,
		  least(y.starts - (14 + y.k % 21) * INTERVAL '1 day', {T0} - (y.k % 48) * INTERVAL '1 hour') AS created) x`},
	{"hearing agencies", `WITH ag AS (SELECT array_agg(id ORDER BY id) ids FROM agencies WHERE code LIKE 'M%'),
		     hd AS (SELECT array_agg(p.id ORDER BY p.agency_id) ids FROM people p JOIN agencies a ON a.id = p.agency_id
		            WHERE a.code LIKE 'M%' AND p.roles = 'agency_head'),
		     dp AS (SELECT array_agg(p.id ORDER BY p.agency_id) ids FROM people p JOIN agencies a ON a.id = p.agency_id
		            WHERE a.code LIKE 'M%' AND p.roles = 'deputy'),
		     st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff')
		INSERT INTO hearing_agencies (hearing_id, agency_id, answer, delegate_name, delegate_reason, delegate_person_id,
		  answered_at, answered_by, outcome, outcome_at, outcome_by)
		SELECT h.id, ag.ids[x.aix], v.answer,
		  CASE WHEN v.answer = 'delegated' THEN '副局长' || x.aix ELSE '' END,
		  CASE WHEN v.answer = 'delegated' THEN '出差' ELSE '' END,
		  CASE WHEN v.answer = 'delegated' THEN dp.ids[x.aix] END,
		  CASE WHEN v.answer <> 'none' THEN least(h.created_at + INTERVAL '1 day', {T0}) END,
		  CASE WHEN v.answer <> 'none' THEN hd.ids[x.aix] END,
		  CASE WHEN h.status = 'held' THEN (ARRAY['head','head','head','head','head','head','head','deputy','deputy','none'])[1 + h.id % 10] END,
		  CASE WHEN h.status = 'held' THEN h.starts_at + INTERVAL '4 hours' END,
		  CASE WHEN h.status = 'held' THEN st.ids[1 + h.id % 6] END
		FROM hearings h CROSS JOIN ag CROSS JOIN hd CROSS JOIN dp CROSS JOIN st
		CROSS JOIN LATERAL (SELECT 1 + (h.id % {A})::int AS aix
		      UNION ALL SELECT 1 + ((h.id * 7 + 1) % {A})::int WHERE h.id % 3 = 0 AND (h.id * 7 + 1) % {A} <> h.id % {A}) x
		CROSS JOIN LATERAL (SELECT CASE
		    WHEN h.status <> 'scheduled' THEN (ARRAY['confirmed','confirmed','confirmed','confirmed','confirmed','confirmed',
		      'confirmed','confirmed','delegated','none'])[1 + h.id % 10]
		    WHEN h.starts_at < {T0} + INTERVAL '3 days' AND h.id % 5 <> 0 THEN 'confirmed'
		    WHEN h.id % 20 < 6 THEN 'confirmed'
		    WHEN h.id % 20 = 6 THEN 'delegated'
		    ELSE 'none' END AS answer) v
		ORDER BY h.id`},
	{"reminders", `INSERT INTO reminders (hearing_agency_id, hearing_id, kind, offset_seconds, due_at, status, sent_at, created_at)
		SELECT x.ha, x.hearing, x.kind, x.off, x.due,
		  CASE WHEN x.status = 'cancelled' THEN 'cancelled'
		       WHEN x.status = 'scheduled' AND x.due > {T0} THEN 'pending'
		       WHEN x.kind = 'escalation' AND x.answer <> 'none' THEN 'skipped'
		       ELSE 'sent' END,
		  CASE WHEN x.status <> 'cancelled' AND x.due <= {T0} THEN x.due END, x.created
		FROM (SELECT ha.id AS ha, h.id AS hearing, s.kind, s.off, h.status, ha.answer, h.created_at AS created,
		        CASE WHEN s.kind = 'escalation' THEN greatest(h.starts_at - s.off * INTERVAL '1 second', h.created_at)
		             ELSE h.starts_at - s.off * INTERVAL '1 second' END AS due
		      FROM hearings h JOIN hearing_agencies ha ON ha.hearing_id = h.id
		      CROSS JOIN (VALUES ('reminder', 604800), ('reminder', 259200), ('reminder', 86400), ('reminder', 7200),
		                         ('escalation', 86400), ('outcome', -14400)) s(kind, off)
		      WHERE s.kind <> 'reminder' OR h.starts_at - s.off * INTERVAL '1 second' > h.created_at) x
		ORDER BY x.ha, x.due, x.kind`},
	{"deliveries", `WITH hd AS (SELECT p.agency_id, p.id FROM people p WHERE p.roles = 'agency_head'),
		     st AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'staff'),
		     sv AS (SELECT array_agg(id ORDER BY id) ids FROM people WHERE roles = 'supervisor')
		INSERT INTO deliveries (dedupe_key, person_id, channel, kind, ref, payload, status, attempts, provider_message_id,
		  reminder_id, hearing_agency_id, created_at, updated_at, sent_at)
		SELECT x.key || '|telegram', x.person, 'telegram', x.kind, x.ref,
		  json_build_object('kind', x.kind, 'ref', x.ref, 'text', x.ref || ' ' || x.kind, 'hearing_agency_id', x.ha)::text,
		  'sent', 1, (1000000 + row_number() OVER ())::text, x.reminder, x.ha, x.at, x.at + INTERVAL '2 seconds', x.at + INTERVAL '2 seconds'
		FROM (SELECT 'notice:' || ha.id || ':' || extract(epoch FROM h.starts_at)::bigint || ':' || hd.id AS key, hd.id AS person,
		        'notice' AS kind, h.case_number AS ref, ha.id AS ha, NULL::bigint AS reminder, h.created_at AS at
		      FROM hearings h JOIN hearing_agencies ha ON ha.hearing_id = h.id JOIN hd ON hd.agency_id = ha.agency_id
		      UNION ALL
		      SELECT CASE r.kind WHEN 'reminder' THEN 'remind:' WHEN 'escalation' THEN 'escalate:' ELSE 'outcome:' END || r.id || ':' ||
		          CASE r.kind WHEN 'reminder' THEN hd.id WHEN 'escalation' THEN sv.ids[1] ELSE st.ids[1 + r.id % 6] END,
		        CASE r.kind WHEN 'reminder' THEN hd.id WHEN 'escalation' THEN sv.ids[1] ELSE st.ids[1 + r.id % 6] END,
		        CASE r.kind WHEN 'reminder' THEN 'reminder' WHEN 'escalation' THEN 'escalation' ELSE 'outcome_request' END,
		        h.case_number, ha.id, r.id, r.due_at
		      FROM reminders r JOIN hearings h ON h.id = r.hearing_id JOIN hearing_agencies ha ON ha.id = r.hearing_agency_id
		      JOIN hd ON hd.agency_id = ha.agency_id CROSS JOIN st CROSS JOIN sv
		      WHERE r.status = 'sent') x
		ORDER BY x.at`},
}

var seedFinish = []seedStep{
	// The rollups of the reports are duban's to build (storage.EnsureStats):
	// the next start rebuilds them, as after an upgrade.
	{"stats", `DELETE FROM complaint_counts; DELETE FROM closing_counts; DELETE FROM stats_meta`},
	// As autovacuum would, in time: plans and index-only scans need it.
	{"vacuum analyze", `VACUUM ANALYZE`},
}

// seedCounts is what the seed made, for the record.
func seedCounts(ctx context.Context, dbURL string) (string, int, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	var b strings.Builder
	pending := 0
	for _, q := range []struct{ name, sql string }{
		{"agencies", `SELECT count(*) FROM agencies`},
		{"people", `SELECT count(*) FROM people`},
		{"complaints", `SELECT count(*) FROM complaints`},
		{"open complaints", `SELECT count(*) FROM complaints WHERE status IN ('received','accepted','assigned','replied')`},
		{"overdue", `SELECT count(*) FROM complaints WHERE status = 'assigned' AND due_at < now()`},
		{"events", `SELECT count(*) FROM complaint_events`},
		{"bigrams", `SELECT count(*) FROM complaint_grams`},
		{"hearings", `SELECT count(*) FROM hearings`},
		{"scheduled", `SELECT count(*) FROM hearings WHERE status = 'scheduled'`},
		{"reminders", `SELECT count(*) FROM reminders`},
		{"pending", `SELECT count(*) FROM reminders WHERE status = 'pending'`},
		{"deliveries", `SELECT count(*) FROM deliveries`},
	} {
		var n int
		if err := db.QueryRowContext(ctx, q.sql).Scan(&n); err != nil {
			return "", 0, fmt.Errorf("count %s: %w", q.name, err)
		}
		if q.name == "pending" {
			pending = n
		}
		fmt.Fprintf(&b, "%s %d, ", q.name, n)
	}
	var size int64
	if err := db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
		return "", 0, err
	}
	fmt.Fprintf(&b, "database %.1f GB", float64(size)/1e9)
	return b.String(), pending, nil
}
