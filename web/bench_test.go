package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage/storagetest"
)

// seedComplaints fills the env's PostgreSQL with 100 more agencies and their
// handlers, n complaints in every state (their receive and assign
// events and text bigrams) and 10,000 hearings, in SQL, for the page
// benchmarks. Descriptions are drawn from phrases of complaints as the
// hotline hears them, so their bigrams spread as real ones do.
func seedComplaints(b *testing.B, e *env, n int) {
	b.Helper()
	db := e.app.Store.DB()
	steps := []string{
		`INSERT INTO agencies (code, name, active, created_at, updated_at)
		 SELECT 'B' || lpad(g::text, 3, '0'),
		        (ARRAY['市','区','县'])[1 + g % 3] || (ARRAY['公安局','市场监督管理局','城市管理局','交通运输局','生态环境局',
		        '住房和城乡建设局','卫生健康委员会','税务局','自然资源局','人力资源和社会保障局'])[1 + g % 10] || g::text || '分局',
		        true, now(), now()
		 FROM generate_series(1, 100) g`,
		`INSERT INTO people (name, agency_id, roles, locale, active, created_at, updated_at)
		 SELECT '承办人' || a.code, a.id, 'handler', 'zh-CN', true, now(), now() FROM agencies a WHERE a.code LIKE 'B%'`,
		`CREATE TEMP TABLE words AS SELECT
		   ARRAY['执法人员','城管队员','交警','市场监管人员','税务人员','窗口工作人员','村干部','街道办人员','环保执法人员','卫生监督员',
		         '派出所民警','收费站','物业公司','供电所','自来水公司','学校','医院收费处','车管所','社保窗口','不动产登记中心'] AS who,
		   ARRAY['当场罚款五百元不开收据','多收取停车费','强制摊派报刊费用','对举报不予处理','办事推诿拖延','态度恶劣辱骂群众',
		         '要求重复提交材料','以罚代管','收费标准不公示','扣押车辆不出具清单','未出示执法证件','超范围检查','违规收取押金',
		         '拖延办理营业执照','要求购买指定商品','乱设收费项目','无故吊销许可','选择性执法','索要好处费','长期不予答复',
		         '推诿扯皮互相踢皮球','擅自提高收费标准','暴力执法','罚款不走程序','强制搭售保险','违规收取培训费','不按时发放补贴',
		         '排队三小时无人办理','网上办事系统长期故障','审批超过法定时限'] AS what,
		   ARRAY['人民路','解放路','中山路','建设路','和平路','新华路','胜利路','青年路','文化路','长江路','黄河路','南京路',
		         '北京路','东风路','朝阳路','光明路','幸福路','健康路','学院路','工业路'] AS road`,
		`WITH ag AS (SELECT array_agg(id ORDER BY id) ids FROM agencies WHERE code LIKE 'B%'),
		      hd AS (SELECT array_agg(p.id ORDER BY a.id) ids FROM people p JOIN agencies a ON a.id = p.agency_id WHERE a.code LIKE 'B%'),
		      base AS (SELECT TIMESTAMPTZ '2026-12-01 09:00:00+08' AS t)
		 INSERT INTO complaints (tracking_code, status, source, category, agency_id, reported_agency_id, handler_id, description,
		   location, reporter_name, reporter_phone, anonymous, assigned_at, due_at, closed_at, created_at, updated_at)
		 SELECT 'B' || lpad(i::text, 11, '0'), st,
		   (ARRAY['telegram','hotline_call','media','open311','npc_deputy','cppcc_member','other'])[1 + i % 7],
		   (ARRAY['illegal_fine','illegal_fee','illegal_levy','inaction','abuse','efficiency','other'])[1 + (i / 7) % 7],
		   CASE WHEN st IN ('assigned','replied','closed') THEN ag.ids[1 + i % 100] END,
		   CASE WHEN i % 2 = 0 THEN ag.ids[1 + (i * 7) % 100] END,
		   CASE WHEN st IN ('assigned','replied','closed') AND i % 3 = 0 THEN hd.ids[1 + i % 100] END,
		   w.who[1 + abs(hashint4(i)::bigint) % 20] || w.what[1 + abs(hashint4(i + 7654321)::bigint) % 30] || '，地点' || w.road[1 + (i * 31) % 20] || (1 + (i * 17) % 300) || '号',
		   w.road[1 + (i * 31) % 20], '王先生', '138' || lpad((i % 100000000)::text, 8, '0'), false,
		   CASE WHEN st IN ('assigned','replied','closed') THEN base.t - ({N} - i) * INTERVAL '1 minute' END,
		   CASE WHEN st IN ('assigned','replied','closed') THEN base.t - ({N} - i) * INTERVAL '1 minute' + ((i * 13) % 20 - 3) * INTERVAL '1 day' END,
		   CASE WHEN st = 'closed' THEN base.t - ({N} - i) * INTERVAL '1 minute' + INTERVAL '3 days' END,
		   base.t - ({N} - i) * INTERVAL '1 minute', base.t
		 FROM generate_series(1, {N}) i, ag, hd, base, words w,
		   LATERAL (SELECT CASE i % 20 WHEN 0 THEN 'received' WHEN 1 THEN 'accepted' WHEN 2 THEN 'assigned' WHEN 3 THEN 'assigned'
		     WHEN 4 THEN 'assigned' WHEN 5 THEN 'replied' WHEN 19 THEN 'rejected' ELSE 'closed' END AS st) s`,
		`INSERT INTO complaint_events (complaint_id, action, actor, at, text, public)
		 SELECT id, 'receive', 'bench', created_at, source, true FROM complaints WHERE tracking_code LIKE 'B%'`,
		`INSERT INTO complaint_events (complaint_id, action, actor, at, text, public, agency_id)
		 SELECT id, 'assign', 'bench', assigned_at, '', true, agency_id FROM complaints WHERE tracking_code LIKE 'B%' AND agency_id IS NOT NULL`,
		// The grams in bulk: without their indexes first, which are built
		// once at the end.
		`ALTER TABLE complaint_grams DROP CONSTRAINT complaint_grams_pkey`,
		`DROP INDEX complaint_grams_complaint`,
		`INSERT INTO complaint_grams (gram, complaint_id)
		 SELECT DISTINCT substr(s, i, 2), id
		 FROM (SELECT id, translate(description || E'\n' || tracking_code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS s
		       FROM complaints WHERE tracking_code LIKE 'B%') c
		 CROSS JOIN LATERAL generate_series(1, char_length(s) - 1) AS i`,
		`ALTER TABLE complaint_grams ADD PRIMARY KEY (gram, complaint_id)`,
		`CREATE INDEX complaint_grams_complaint ON complaint_grams (complaint_id)`,
		`WITH ag AS (SELECT array_agg(id ORDER BY id) ids FROM agencies WHERE code LIKE 'B%')
		 INSERT INTO hearings (case_number, court, courtroom, starts_at, plaintiff, cause, status, created_at, updated_at)
		 SELECT '(2026)沪01行初' || g || '号', '市中级人民法院', '第' || (1 + g % 9) || '法庭',
		   TIMESTAMPTZ '2026-06-01 09:00:00+08' + g * INTERVAL '1 hour', '原告' || g, '行政处罚',
		   CASE WHEN g < 5000 THEN 'held' ELSE 'scheduled' END, now(), now()
		 FROM generate_series(1, 10000) g`,
		`WITH ag AS (SELECT array_agg(id ORDER BY id) ids FROM agencies WHERE code LIKE 'B%')
		 INSERT INTO hearing_agencies (hearing_id, agency_id)
		 SELECT h.id, ag.ids[1 + h.id % 100] FROM hearings h, ag
		 UNION ALL SELECT h.id, ag.ids[1 + (h.id * 7 + 1) % 100] FROM hearings h, ag WHERE h.id % 3 = 0 AND (h.id * 7 + 1) % 100 <> h.id % 100`,
		// As autovacuum would, in time: index-only scans need the visibility map.
		`VACUUM ANALYZE`,
	}
	for i, q := range steps {
		t0 := time.Now()
		q = strings.ReplaceAll(q, "{N}", fmt.Sprint(n))
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("seed step %d: %v", i, err)
		}
		b.Logf("seed step %d: %s", i, time.Since(t0).Round(time.Millisecond))
	}
}

// BenchmarkWebPages times the queue page under each filter, text search
// in Chinese, and the complaint page, on PostgreSQL with 1,000,000
// complaints and 10,000 hearings, through HTTP as a signed-in supervisor
// (and a handler, whose queue the rule book scopes). It reports p50 and
// p95 in milliseconds per page (docs/PERFORMANCE.md):
//
//	DUBAN_TEST_POSTGRES_URL=… go test ./web/ -run XXX -bench WebPages -benchtime 40x -timeout 60m
func BenchmarkWebPages(b *testing.B) {
	e := newEnv(b, storagetest.PostgresURL(b))
	seedComplaints(b, e, benchComplaints)
	var handlerID, b042 int64
	if err := e.app.Store.DB().Get(&b042, `SELECT id FROM agencies WHERE code = 'B042'`); err != nil {
		b.Fatal(err)
	}
	if err := e.app.Store.DB().Get(&handlerID, `SELECT id FROM people WHERE agency_id = $1`, b042); err != nil {
		b.Fatal(err)
	}
	sup := e.browser().signIn("sup")
	// A handler of B042 with a web login, for the scoped queue.
	h := e.person(benchHandler(b042), "bench-handler")
	handler := e.browser().signIn(h.Login)
	first := sup.get("/complaints").want(b, http.StatusOK)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if next == nil {
		b.Fatal("no next page")
	}
	var ids []int64
	if err := e.app.Store.DB().Select(&ids, `SELECT id FROM complaints WHERE tracking_code LIKE 'B%' AND id % 997 = 0 LIMIT 200`); err != nil {
		b.Fatal(err)
	}
	pages := []struct {
		name string
		as   *browser
		path func(i int) string
	}{
		{"queue/all", sup, fixed("/complaints")},
		{"queue/page2", sup, fixed(strings.ReplaceAll(next[1], "&amp;", "&"))},
		{"queue/status", sup, fixed("/complaints?status=assigned")},
		{"queue/agency", sup, fixed("/complaints?agency=B042")},
		{"queue/reported_agency", sup, fixed("/complaints?reported_agency=B007")},
		{"queue/category", sup, fixed("/complaints?category=abuse")},
		{"queue/source", sup, fixed("/complaints?source=media")},
		{"queue/overdue", sup, fixed("/complaints?overdue=true")},
		{"queue/handler", sup, fixed(fmt.Sprintf("/complaints?handler=%d", handlerID))},
		{"queue/all_filters", sup, fixed("/complaints?status=assigned&agency=B042&category=abuse&overdue=true")},
		{"queue/as_handler", handler, fixed("/complaints")},
		{"search/phrase", sup, fixed("/complaints?q=%E4%B8%8D%E5%BC%80%E6%94%B6%E6%8D%AE")},    // 不开收据
		{"search/place", sup, fixed("/complaints?q=%E8%A7%A3%E6%94%BE%E8%B7%AF88%E5%8F%B7")},   // 解放路88号
		{"search/common", sup, fixed("/complaints?q=%E7%BD%9A%E6%AC%BE")},                      // 罚款
		{"search/with_filter", sup, fixed("/complaints?q=%E7%BD%9A%E6%AC%BE&status=assigned")}, // 罚款, assigned
		{"search/code", sup, fixed("/complaints?q=B00000424242")},
		{"complaint", sup, func(i int) string { return fmt.Sprintf("/complaints/%d", ids[i%len(ids)]) }},
		{"complaint/as_handler", handler, func(i int) string { return fmt.Sprintf("/complaints/%d", ids[i%len(ids)]) }},
		{"hearings", sup, fixed("/hearings")},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				t0 := time.Now()
				got := p.as.get(p.path(i))
				lat = append(lat, time.Since(t0))
				if got.status != http.StatusOK && got.status != http.StatusNotFound {
					b.Fatalf("%s: %d", p.path(i), got.status)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[(len(lat)*95+99)/100-1]), "p95-ms")
		})
	}
}

// benchComplaints is the size of the queue the pages are timed at.
const benchComplaints = 1_000_000

func fixed(path string) func(int) string { return func(int) string { return path } }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchHandler is a handler of agency id.
func benchHandler(agency int64) duban.Person {
	return duban.Person{Name: "压测承办人", AgencyID: &agency, Roles: duban.Roles{duban.RoleHandler}}
}
