//! The `k8s-job` clone strategy against a local stand-in of the Kubernetes API server: it
//! records every call and the Jobs demo-session creates, "runs" each with the same code the
//! `clone-demo-tenant` binary runs, and reports its status through list and watch.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails loudly on what it cannot set up, and reads JSON answers by key"
)]

use bakery_demo_session::settings::WarmPoolSizing;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bakery_config::demo::SessionStatus;
use bakery_demo_session::clone_job::{self, CloneOutcome, CloneWork};
use bakery_demo_session::settings::{CloneStrategy, OnDemand, Settings};
use bakery_demo_session::{pool, sessions};
use diesel_async::AsyncConnection;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Run the clone, then report success.
    Succeed,
    /// Report the Job failed without running it.
    Fail,
    /// Run the clone (its rows are written), then report the Job failed, as when the pod
    /// is killed before it can report.
    CloneThenFail,
    /// Never finish.
    Hang,
}

#[derive(Default)]
struct Cluster {
    /// Jobs received, as JSON, with the status the stand-in gave them.
    jobs: Vec<Value>,
    /// Names of the Jobs deleted, with the propagation policy asked for.
    deleted: Vec<(String, String)>,
    /// Every request: (method, path, watch?).
    calls: Vec<(String, String, bool)>,
    /// The command line of every Job created (deleted ones included).
    created_args: Vec<Vec<String>>,
}

struct StandIn {
    cluster: Arc<Mutex<Cluster>>,
    url: String,
}

fn final_status(job: &Value) -> bool {
    job["status"]["succeeded"].as_i64().unwrap_or(0) > 0
        || job["status"]["conditions"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
}

fn start_stand_in(behaviour: Behaviour, settings: Arc<Mutex<Option<Settings>>>) -> StandIn {
    let cluster = Arc::new(Mutex::new(Cluster::default()));
    let state = web::Data::new((cluster.clone(), behaviour, settings));
    type State = web::Data<(Arc<Mutex<Cluster>>, Behaviour, Arc<Mutex<Option<Settings>>>)>;

    async fn create_job(state: State, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
        record(&state, &req);
        let mut job = body.into_inner();
        job["metadata"]["resourceVersion"] = json!("1");
        job["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        job["status"] = json!({});
        let name = job["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let args: Vec<String> = serde_json::from_value(
            job["spec"]["template"]["spec"]["containers"][0]["args"].clone(),
        )
        .expect("args");
        let work = CloneWork::from_args(&args).expect("the Job's command line");
        {
            let mut c = state.0.lock().expect("lock");
            c.jobs.push(job.clone());
            c.created_args.push(args);
        }
        let (cluster, behaviour, settings) = (state.0.clone(), state.1, state.2.clone());
        // the "pod": what clone-demo-tenant does, then the Job's status
        tokio::spawn(async move {
            let status = match behaviour {
                Behaviour::Succeed => {
                    let settings = settings.lock().expect("lock").clone().expect("settings");
                    match clone_job::run(&settings.clone_job_settings(), &work).await {
                        Ok(_) => json!({"succeeded": 1, "active": 0}),
                        Err(e) => {
                            json!({"failed": 1, "conditions": [{"type": "Failed", "status": "True", "message": e.to_string()}]})
                        }
                    }
                }
                Behaviour::Fail => {
                    json!({"failed": 3, "conditions": [{"type": "Failed", "status": "True",
                    "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]})
                }
                Behaviour::CloneThenFail => {
                    let settings = settings.lock().expect("lock").clone().expect("settings");
                    clone_job::run(&settings.clone_job_settings(), &work)
                        .await
                        .expect("clone");
                    json!({"failed": 1, "conditions": [{"type": "Failed", "status": "True",
                    "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]})
                }
                Behaviour::Hang => return,
            };
            let mut c = cluster.lock().expect("lock");
            if let Some(j) = c
                .jobs
                .iter_mut()
                .find(|j| j["metadata"]["name"] == name.as_str())
            {
                j["status"] = status;
                j["metadata"]["resourceVersion"] = json!("2");
            }
        });
        HttpResponse::Created().json(job)
    }

    async fn jobs(state: State, req: HttpRequest) -> HttpResponse {
        record(&state, &req);
        let query = req.query_string().to_owned();
        let wanted = query
            .split('&')
            .find_map(|p| p.strip_prefix("fieldSelector=metadata.name%3D"))
            .unwrap_or_default()
            .to_owned();
        let find = {
            let cluster = state.0.clone();
            move || {
                cluster
                    .lock()
                    .expect("lock")
                    .jobs
                    .iter()
                    .find(|j| j["metadata"]["name"] == wanted.as_str())
                    .cloned()
            }
        };
        if query.contains("watch=true") {
            // one event once the Job has finished, then the stream ends
            let event = futures_util::stream::once(async move {
                let mut waited = 0;
                let job = loop {
                    match find() {
                        Some(j) if final_status(&j) => break Some(j),
                        _ if waited > 200 => break None,
                        _ => {
                            waited += 1;
                            tokio::time::sleep(Duration::from_millis(25)).await;
                        }
                    }
                };
                let line = match job {
                    Some(j) => format!("{}\n", json!({"type": "MODIFIED", "object": j})),
                    None => String::new(),
                };
                Ok::<_, actix_web::Error>(bytes::Bytes::from(line))
            });
            return HttpResponse::Ok()
                .content_type("application/json")
                .streaming(event);
        }
        let items: Vec<Value> = find().into_iter().collect();
        HttpResponse::Ok().json(json!({
            "apiVersion": "batch/v1", "kind": "JobList",
            "metadata": {"resourceVersion": "1"}, "items": items
        }))
    }

    async fn delete_job(
        state: State,
        req: HttpRequest,
        path: web::Path<(String, String)>,
        body: Option<web::Json<Value>>,
    ) -> HttpResponse {
        record(&state, &req);
        let (_, name) = path.into_inner();
        let policy = body
            .and_then(|b| b["propagationPolicy"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut c = state.0.lock().expect("lock");
        c.deleted.push((name.clone(), policy));
        match c
            .jobs
            .iter()
            .position(|j| j["metadata"]["name"] == name.as_str())
        {
            Some(i) => HttpResponse::Ok().json(c.jobs.remove(i)),
            None => HttpResponse::NotFound().json(json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "reason": "NotFound", "code": 404, "message": "not found"
            })),
        }
    }

    fn record(state: &State, req: &HttpRequest) {
        state.0.lock().expect("lock").calls.push((
            req.method().to_string(),
            req.path().to_owned(),
            req.query_string().contains("watch=true"),
        ));
    }

    /// Anything else demo-session asks: recorded (the RBAC test reports it), 404.
    async fn other(state: State, req: HttpRequest) -> HttpResponse {
        record(&state, &req);
        HttpResponse::NotFound().json(json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "reason": "NotFound", "code": 404, "message": "not served by the stand-in"
        }))
    }

    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(
                "/apis/batch/v1/namespaces/{ns}/jobs",
                web::post().to(create_job),
            )
            .route("/apis/batch/v1/namespaces/{ns}/jobs", web::get().to(jobs))
            .route(
                "/apis/batch/v1/namespaces/{ns}/jobs/{name}",
                web::delete().to(delete_job),
            )
            .default_service(web::to(other))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind stand-in");
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    StandIn { cluster, url }
}

const IMAGE: &str = "registry.local/bakery-ia@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

async fn app_on_stand_in(behaviour: Behaviour) -> (TestApp, StandIn) {
    app_on_stand_in_with(behaviour, |_| {}).await
}

/// demo-session with `CLONE_STRATEGY=k8s-job` on the stand-in (no warm pool unless
/// `customise` sets one).
async fn app_on_stand_in_with(
    behaviour: Behaviour,
    customise: impl FnOnce(&mut Settings),
) -> (TestApp, StandIn) {
    let shared = Arc::new(Mutex::new(None));
    let stand_in = start_stand_in(behaviour, shared.clone());
    let url = stand_in.url.clone();
    let app = spawn_app_with(move |s| {
        s.clone_strategy = CloneStrategy::KubernetesJob;
        s.job.api_url = Some(url);
        s.job.image = Some(IMAGE.to_owned());
        s.job.timeout = Duration::from_secs(20);
        customise(s);
    })
    .await;
    *shared.lock().expect("lock") = Some(app.settings.clone());
    (app, stand_in)
}

#[tokio::test]
async fn the_job_strategy_creates_the_right_job_and_follows_it_to_ready() {
    let (app, stand_in) = app_on_stand_in(Behaviour::Succeed).await;
    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    let session_id = body["session_id"].as_str().expect("id");
    let tenant: uuid::Uuid = body["virtual_tenant_id"]
        .as_str()
        .expect("vt")
        .parse()
        .expect("uuid");

    let jobs = stand_in.cluster.lock().expect("lock").jobs.clone();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job["metadata"]["namespace"], "bakery-ia-clones");
    assert_eq!(
        job["metadata"]["name"],
        format!("clone-{}", tenant.simple())
    );
    assert_eq!(
        job["metadata"]["labels"]["bakery-ia/demo-session-id"],
        session_id
    );
    assert_eq!(
        job["metadata"]["labels"]["app.kubernetes.io/part-of"],
        "bakery-ia"
    );
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 20);
    assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 600);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "clone-demo-tenant");
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "bakery-ia-ca");
    assert_eq!(pod["volumes"][0]["configMap"]["optional"], true);
    assert_eq!(
        job["spec"]["template"]["metadata"]["labels"]["bakery-ia/demo-session-id"],
        session_id
    );
    let container = &pod["containers"][0];
    assert_eq!(container["image"], IMAGE);
    assert_eq!(container["command"], json!(["clone-demo-tenant"]));
    assert_eq!(container["args"], json!(["--session-id", session_id]));
    // the clone's settings first, then its Secret (which wins for a variable in both)
    assert_eq!(
        container["envFrom"][0]["configMapRef"]["name"],
        "bakery-ia-clone-config"
    );
    assert_eq!(
        container["envFrom"][1]["secretRef"]["name"],
        "bakery-ia-clone-job"
    );
    assert_eq!(
        container["volumeMounts"][0]["mountPath"],
        "/etc/bakery-ia/ca"
    );
    assert_eq!(container["resources"]["limits"]["memory"], "128Mi");
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );

    // the Job really cloned: the copy equals the template
    let mut inv = app.inventory_conn().await;
    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        clone_counts(&mut inv, SAN_PABLO.parse().expect("uuid")).await
    );
}

/// The one session of a test, as stored.
async fn the_session(app: &TestApp) -> sessions::DemoSession {
    let mut s = app.sessions_conn().await;
    diesel_async::RunQueryDsl::get_result(diesel::sql_query("SELECT * FROM demo_sessions"), &mut s)
        .await
        .expect("one session row")
}

/// A failed create answers 503, records the reason, deletes the Job, and leaves no row of
/// the virtual tenant in either database.
async fn assert_failed_and_removed(app: &TestApp, stand_in: &StandIn, reason: &str) {
    let r = app
        .create_as("central_baker_satellite", "203.0.113.40")
        .await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "demo_preparation_failed"
    );
    let session = the_session(app).await;
    assert_eq!(session.status, SessionStatus::Failed);
    let failure = session.failure_reason.clone().expect("reason");
    assert!(failure.contains(reason), "{failure}");
    assert!(session.destroyed_at.is_some(), "compensation done");
    let job = format!("clone-{}", session.virtual_tenant_id.simple());
    assert_eq!(
        stand_in.cluster.lock().expect("lock").deleted,
        vec![(job, "Background".to_owned())]
    );
    let mut inv = app.inventory_conn().await;
    let counts = inventory_counts(&mut inv, session.virtual_tenant_id).await;
    assert!(counts.values().all(|n| *n == 0), "{counts:?}");
    let mut ten = app.tenant_conn().await;
    let tenants: i64 = ten
        .transaction::<_, diesel::result::Error, _>(async |c| {
            bakery_config::db::allow_all_tenants(c).await?;
            diesel_async::RunQueryDsl::get_result::<Count>(
                diesel::sql_query("SELECT count(*) AS n FROM tenants WHERE is_demo"),
                c,
            )
            .await
        })
        .await
        .expect("count")
        .n;
    assert_eq!(tenants, 0);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn a_failed_job_fails_the_session_and_leaves_nothing() {
    let (app, stand_in) = app_on_stand_in(Behaviour::Fail).await;
    assert_failed_and_removed(&app, &stand_in, "backoff limit").await;
}

#[tokio::test]
async fn a_job_that_copied_then_failed_leaves_nothing() {
    let (app, stand_in) = app_on_stand_in(Behaviour::CloneThenFail).await;
    assert_failed_and_removed(&app, &stand_in, "deadline").await;
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out_and_is_deleted() {
    let (app, stand_in) =
        app_on_stand_in_with(Behaviour::Hang, |s| s.job.timeout = Duration::from_secs(1)).await;
    assert_failed_and_removed(&app, &stand_in, "did not finish within").await;
}

#[test]
fn k8s_job_without_clone_job_image_is_refused_at_start_up_by_name() {
    let vars =
        std::collections::HashMap::from([("CLONE_STRATEGY".to_owned(), "k8s-job".to_owned())]);
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = Settings::from_env(&mut env);
    let error = env.finish(settings).expect_err("refused").to_string();
    assert!(
        error.contains("CLONE_JOB_IMAGE") && error.contains("required with CLONE_STRATEGY=k8s-job"),
        "{error}"
    );
}

/// The pool's slots, once `n` are ready (the refiller runs in the background).
async fn wait_for_ready_slots(app: &TestApp, n: usize) -> Vec<pool::WarmTenant> {
    for _ in 0..400 {
        let mut conn = app.sessions_conn().await;
        let slots = pool::all(&mut conn).await.expect("slots");
        if slots.iter().filter(|s| s.ready).count() >= n {
            return slots;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the warm pool never had {n} ready slots");
}

#[tokio::test]
async fn clone_jobs_fill_the_warm_pool_and_prospects_are_served_from_it_at_once() {
    let (app, stand_in) = app_on_stand_in_with(Behaviour::Succeed, |s| {
        s.warm_pool = WarmPoolSizing::fixed(2);
    })
    .await;
    // one Job per account type fills both of its slots
    let slots = wait_for_ready_slots(&app, 4).await;
    let jobs = stand_in.cluster.lock().expect("lock").jobs.clone();
    assert_eq!(jobs.len(), 2, "one Job per account type");
    for job in &jobs {
        assert_eq!(
            job["metadata"]["labels"]["bakery-ia/clone-for"],
            "warm-pool"
        );
        let args = &job["spec"]["template"]["spec"]["containers"][0]["args"];
        assert_eq!(args[0], "--pool-slots");
        assert_eq!(args[1].as_str().expect("list").split(',').count(), 2);
    }

    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    let tenant: uuid::Uuid = body["virtual_tenant_id"]
        .as_str()
        .expect("vt")
        .parse()
        .expect("uuid");
    assert!(
        slots.iter().any(|s| s.virtual_tenant_id == tenant),
        "served from the pool"
    );
    let session = the_session(&app).await;
    assert_eq!(
        session.clone_strategy, "k8s-job",
        "the pool was filled by Jobs"
    );
    // the hand-over made no Job of its own; the refill that follows makes one for the slot
    let mut inv = app.inventory_conn().await;
    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        clone_counts(&mut inv, SAN_PABLO.parse().expect("uuid")).await
    );
    wait_for_ready_slots(&app, 4).await;
    let jobs = stand_in.cluster.lock().expect("lock").jobs.clone();
    assert!(
        jobs.iter()
            .all(|j| j["metadata"]["labels"]["bakery-ia/clone-for"] == "warm-pool"),
        "no per-session Job while the pool serves"
    );
}

#[tokio::test]
async fn a_failed_pool_job_releases_its_slots_and_leaves_nothing() {
    let (app, stand_in) =
        app_on_stand_in_with(Behaviour::Fail, |s| s.warm_pool = WarmPoolSizing::fixed(2)).await;
    // the slots of the two failed Jobs (one per account type), once released
    let mut released = Vec::new();
    for _ in 0..400 {
        let (deleted, created) = {
            let c = stand_in.cluster.lock().expect("lock");
            (c.deleted.clone(), c.created_args.clone())
        };
        let named: Vec<uuid::Uuid> = created
            .iter()
            .flat_map(|args| match CloneWork::from_args(args) {
                Ok(CloneWork::PoolSlots(slots)) => slots,
                _ => Vec::new(),
            })
            .collect();
        let mut conn = app.sessions_conn().await;
        let pooled = pool::all(&mut conn).await.expect("slots");
        if deleted.len() >= 2 && pooled.is_empty() {
            assert!(
                deleted
                    .iter()
                    .all(|(name, _)| name.starts_with("clone-pool-"))
            );
            released = named;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        released.len(),
        4,
        "two slots per account type, all released"
    );
    let mut inv = app.inventory_conn().await;
    for slot in released {
        let counts = inventory_counts(&mut inv, slot).await;
        assert!(counts.values().all(|n| *n == 0), "{slot}: {counts:?}");
    }
    // a prospect arriving meanwhile gets a Job of their own, which this stand-in fails too
    let r = app.create_as("individual_bakery", "203.0.113.41").await;
    assert_eq!(r.status().as_u16(), 503, "this stand-in fails every Job");
}

#[tokio::test]
async fn clone_demo_tenant_fills_pool_slots_once() {
    let app = spawn_app().await;
    let mut s = app.sessions_conn().await;
    let slots = pool::reserve(
        &mut s,
        bakery_config::demo::AccountType::IndividualBakery,
        SAN_PABLO.parse().expect("uuid"),
        2,
    )
    .await
    .expect("reserve");
    let work = CloneWork::PoolSlots(slots.clone());
    assert_eq!(
        CloneWork::from_args(&work.to_args()).expect("round trip"),
        work
    );
    let settings = app.settings.clone_job_settings();
    assert_eq!(
        clone_job::run(&settings, &work).await.expect("fill"),
        CloneOutcome::Warmed {
            cloned: 2,
            skipped: 0
        }
    );
    // Kubernetes may run the pod twice: nothing is copied again
    assert_eq!(
        clone_job::run(&settings, &work).await.expect("again"),
        CloneOutcome::Warmed {
            cloned: 0,
            skipped: 2
        }
    );
    let mut inv = app.inventory_conn().await;
    for slot in slots {
        assert_eq!(
            inventory_counts(&mut inv, slot).await,
            clone_counts(&mut inv, SAN_PABLO.parse().expect("uuid")).await
        );
    }
    assert!(
        pool::all(&mut s)
            .await
            .expect("slots")
            .iter()
            .all(|w| w.ready)
    );
}

#[tokio::test]
async fn with_clone_on_demand_inline_an_empty_pool_clones_in_process() {
    let (app, stand_in) =
        app_on_stand_in_with(Behaviour::Hang, |s| s.job.on_demand = OnDemand::Inline).await;
    let body = app.create("individual_bakery").await;
    assert_eq!(body["status"], "ready");
    assert!(
        stand_in.cluster.lock().expect("lock").jobs.is_empty(),
        "no Job"
    );
    assert_eq!(the_session(&app).await.clone_strategy, "inline");
}

#[tokio::test]
async fn clone_demo_tenant_is_idempotent_and_skips_sessions_that_are_not_pending() {
    let app = spawn_app().await;
    let session = bakery_test_support::session_id();
    let tenant = uuid::Uuid::new_v4();
    let mut s = app.sessions_conn().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut s,
        &format!(
            "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
               clone_strategy, expires_at) VALUES ('{session}', '{tenant}', '{LA_ESPIGA}', \
               'central_baker_satellite', 'pending', 'k8s-job', now() + interval '30 minutes')"
        ),
    )
    .await
    .expect("pending session");
    let work = CloneWork::Session(session.clone());
    // Kubernetes may run the pod twice
    for _ in 0..2 {
        assert_eq!(
            clone_job::run(&app.settings.clone_job_settings(), &work)
                .await
                .expect("clone"),
            CloneOutcome::Cloned
        );
    }
    let mut inv = app.inventory_conn().await;
    assert_eq!(
        inventory_counts(&mut inv, tenant).await,
        clone_counts(&mut inv, LA_ESPIGA.parse().expect("uuid")).await
    );
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut s,
        &format!("UPDATE demo_sessions SET status = 'failed' WHERE id = '{session}'"),
    )
    .await
    .expect("fail it");
    assert_eq!(
        clone_job::run(&app.settings.clone_job_settings(), &work)
            .await
            .expect("skip"),
        CloneOutcome::NotPending(SessionStatus::Failed)
    );
}

#[tokio::test]
async fn clone_demo_tenant_copies_under_clone_statement_timeout_ms() {
    let app = spawn_app().await;
    let session = bakery_test_support::session_id();
    let tenant = uuid::Uuid::new_v4();
    let mut s = app.sessions_conn().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut s,
        &format!(
            "INSERT INTO demo_sessions (id, virtual_tenant_id, base_tenant_id, demo_account_type, status, \
               clone_strategy, expires_at) VALUES ('{session}', '{tenant}', '{SAN_PABLO}', \
               'individual_bakery', 'pending', 'k8s-job', now() + interval '30 minutes')"
        ),
    )
    .await
    .expect("pending session");
    // copying forecast_models takes a second (ALWAYS: the copy may run as a replica)
    let mut inv = app.inventory_conn().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut inv,
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$; \
         CREATE TRIGGER slow BEFORE INSERT ON forecast_models FOR EACH STATEMENT EXECUTE FUNCTION slow(); \
         ALTER TABLE forecast_models ENABLE ALWAYS TRIGGER slow;",
    )
    .await
    .expect("trigger");
    // CLONE_STATEMENT_TIMEOUT_MS below that: cancelled (a connection with the default
    // limits, 5 s, would have let it through)
    let work = CloneWork::Session(session.clone());
    let mut short = app.settings.clone_job_settings();
    short.inventory_database.limits.statement_timeout = Duration::from_millis(200);
    let e = clone_job::run(&short, &work).await.expect_err("cancelled");
    assert!(
        format!("{e:#}").contains("canceling statement due to statement timeout"),
        "{e:#}"
    );
    // within it, the same copy goes through
    assert_eq!(
        clone_job::run(&app.settings.clone_job_settings(), &work)
            .await
            .expect("clone"),
        CloneOutcome::Cloned
    );
}

/// The Kubernetes verb of a call the stand-in saw: (API group, resource, verb, namespace).
fn verb_of(method: &str, path: &str, watch: bool) -> (String, String, String, String) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // /apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}] or /api/v1/namespaces/…
    let (group, rest) = match parts.as_slice() {
        ["apis", group, _version, rest @ ..] => ((*group).to_owned(), rest),
        ["api", _version, rest @ ..] => (String::new(), rest),
        _ => panic!("not a Kubernetes API path: {path}"),
    };
    let (namespace, resource, named) = match rest {
        ["namespaces", ns, resource] => (*ns, *resource, false),
        ["namespaces", ns, resource, _name] => (*ns, *resource, true),
        _ => panic!("not a namespaced resource: {path}"),
    };
    let verb = match (method, named, watch) {
        ("POST", false, _) => "create",
        ("GET", false, true) => "watch",
        ("GET", false, false) => "list",
        ("GET", true, _) => "get",
        ("DELETE", true, _) => "delete",
        ("PATCH", true, _) => "patch",
        ("PUT", true, _) => "update",
        _ => panic!("unexpected call {method} {path}"),
    };
    (
        group,
        resource.to_owned(),
        verb.to_owned(),
        namespace.to_owned(),
    )
}

/// The rules of demo-session's Role in the clone namespace, as the manifests grant them:
/// every (API group, resource, verb).
fn granted_by_the_role() -> std::collections::BTreeSet<(String, String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../k8s/base/clones/rbac.yaml"
    );
    let text = std::fs::read_to_string(path).expect("k8s/base/clones/rbac.yaml");
    let mut granted = std::collections::BTreeSet::new();
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let object: Value = serde::Deserialize::deserialize(document).expect("YAML");
        if object["kind"] != "Role" || object["metadata"]["name"] != "demo-session" {
            continue;
        }
        for rule in object["rules"].as_array().expect("rules") {
            let list = |key: &str| -> Vec<String> {
                serde_json::from_value(rule[key].clone()).expect("a list")
            };
            for group in list("apiGroups") {
                for resource in list("resources") {
                    for verb in list("verbs") {
                        granted.insert((group.clone(), resource.clone(), verb));
                    }
                }
            }
        }
    }
    assert!(!granted.is_empty(), "no Role demo-session in {path}");
    granted
}

/// Least privilege, both ways: every call demo-session makes (here a Job that fails, which
/// exercises create, the watch's list and watch, and the delete) is granted by the Role in
/// `k8s/base/clones/`, in the clone namespace, and the Role grants nothing it does not make.
#[tokio::test]
async fn the_role_grants_exactly_the_calls_demo_session_makes() {
    let (app, stand_in) = app_on_stand_in(Behaviour::Fail).await;
    let r = app.create_as("individual_bakery", "203.0.113.42").await;
    assert_eq!(r.status().as_u16(), 503);
    // and a pool refill, by Job
    let (pool_app, pool_stand_in) = app_on_stand_in_with(Behaviour::Succeed, |s| {
        s.warm_pool = WarmPoolSizing::fixed(1);
    })
    .await;
    wait_for_ready_slots(&pool_app, 2).await;

    let mut used = std::collections::BTreeSet::new();
    for (method, path, watch) in stand_in
        .cluster
        .lock()
        .expect("lock")
        .calls
        .iter()
        .chain(pool_stand_in.cluster.lock().expect("lock").calls.iter())
    {
        let (group, resource, verb, namespace) = verb_of(method, path, *watch);
        assert_eq!(namespace, "bakery-ia-clones", "{method} {path}");
        used.insert((group, resource, verb));
    }
    let granted = granted_by_the_role();
    let missing: Vec<_> = used.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "calls the Role does not grant: {missing:?}"
    );
    let unused: Vec<_> = granted.difference(&used).collect();
    assert!(unused.is_empty(), "granted but never used: {unused:?}");
}

/// `k8s/reference/clone-job.yaml` is exactly the Job demo-session builds (with the settings
/// the manifests give it), so what `scripts/check-deploy.sh` validates — strict schema and
/// the admission policy's rules — is what runs.
#[test]
fn the_reference_manifest_is_the_job_demo_session_builds() {
    use bakery_demo_session::jobs::{CloneJobTemplate, CloneTarget};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../k8s/reference/clone-job.yaml"
    );
    let text = std::fs::read_to_string(path).expect("k8s/reference/clone-job.yaml");
    let mut reference: Value = serde_yaml_ng::from_str(&text).expect("one YAML document");
    // the manifest scanners' skip annotations are not part of the Job
    if let Some(meta) = reference["metadata"].as_object_mut() {
        meta.remove("annotations");
    }
    let container = &reference["spec"]["template"]["spec"]["containers"][0];
    let args: Vec<String> = serde_json::from_value(container["args"].clone()).expect("args");
    let CloneWork::Session(session) = CloneWork::from_args(&args).expect("args") else {
        panic!("the reference is a session's Job");
    };
    let name = reference["metadata"]["name"].as_str().expect("name");
    let virtual_tenant: uuid::Uuid = name
        .strip_prefix("clone-")
        .expect("clone-<tenant>")
        .parse()
        .expect("a tenant id");

    // demo-session's defaults are what the manifests set (k8s/base/app/demo-session.yaml)
    let mut vars = std::collections::HashMap::new();
    vars.insert("CLONE_STRATEGY".to_owned(), "k8s-job".to_owned());
    vars.insert(
        "CLONE_JOB_IMAGE".to_owned(),
        container["image"].as_str().expect("image").to_owned(),
    );
    let mut env = bakery_config::Env::from_map(&vars);
    let settings = Settings::from_env(&mut env);
    let built = CloneJobTemplate::new(&settings.job, settings.job.image.clone().expect("image"))
        .job_for(&CloneTarget::Session {
            id: session,
            virtual_tenant,
        });
    let built = serde_json::to_value(&built).expect("JSON");
    assert_eq!(
        built,
        reference,
        "k8s/reference/clone-job.yaml differs from the Job demo-session builds; it should read:\n{}",
        serde_yaml_ng::to_string(&built).expect("YAML")
    );
}
