//! The `k8s-job` clone strategy: `batch/v1` Jobs running `clone-demo-tenant` in their own
//! namespace — one per warm-pool refill (`--pool-slots`, several tenants) and, when the pool
//! is empty and `CLONE_ON_DEMAND=job`, one per session (`--session-id`) — each followed
//! with a watch until it succeeds, fails or times out.

use std::collections::BTreeMap;
use std::time::Duration;

use bakery_config::demo::SessionId;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource, Container, EnvFromSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile,
    SecretEnvSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::{Client, Config};
use uuid::Uuid;

use crate::clone_job::CloneWork;
use crate::settings::JobSettings;
use bakery_config::http::chain;

/// Label carrying the session id on the Job and its pod.
pub const SESSION_LABEL: &str = "bakery-ia/demo-session-id";

/// Where the CA bundle for TLS to the databases is mounted (the optional ConfigMap
/// `bakery-ia-ca`, docs/deploy.md "TLS"): `sslrootcert=/etc/bakery-ia/ca/ca.crt`.
pub const CA_MOUNT: &str = "/etc/bakery-ia/ca";
const CA_CONFIG_MAP: &str = "bakery-ia-ca";

/// What one Job clones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneTarget {
    /// A pending session's virtual tenant (`--session-id <id>`).
    Session { id: SessionId, virtual_tenant: Uuid },
    /// Reserved warm-pool slots, one tenant each (`--pool-slots <id>,<id>…`).
    PoolSlots(Vec<Uuid>),
}

impl CloneTarget {
    /// `clone-<virtual tenant>` or `clone-pool-<first slot>`: valid DNS labels, unique
    /// (a retried create finds the same Job).
    pub fn job_name(&self) -> String {
        match self {
            CloneTarget::Session { virtual_tenant, .. } => job_name(*virtual_tenant),
            CloneTarget::PoolSlots(slots) => format!(
                "clone-pool-{}",
                slots.first().copied().unwrap_or_default().simple()
            ),
        }
    }

    /// What the Job's `clone-demo-tenant` is told to do.
    pub fn work(&self) -> CloneWork {
        match self {
            CloneTarget::Session { id, .. } => CloneWork::Session(id.clone()),
            CloneTarget::PoolSlots(slots) => CloneWork::PoolSlots(slots.clone()),
        }
    }

    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            (
                "app.kubernetes.io/name".to_owned(),
                "clone-demo-tenant".to_owned(),
            ),
            (
                "app.kubernetes.io/part-of".to_owned(),
                "bakery-ia".to_owned(),
            ),
        ]);
        match self {
            CloneTarget::Session { id, .. } => {
                labels.insert(SESSION_LABEL.to_owned(), id.to_string());
                labels.insert(FOR_LABEL.to_owned(), "session".to_owned());
            }
            CloneTarget::PoolSlots(_) => {
                labels.insert(FOR_LABEL.to_owned(), "warm-pool".to_owned());
            }
        }
        labels
    }
}

/// Label saying what a Job clones for: `session` or `warm-pool`.
pub const FOR_LABEL: &str = "bakery-ia/clone-for";

/// The Job demo-session creates, as a pure function of its settings: the reference
/// manifest (`k8s/reference/clone-job.yaml`) is this, checked by a test, and the admission
/// policy in `k8s/base/clones/` is checked against that manifest.
#[derive(Debug, Clone)]
pub struct CloneJobTemplate {
    settings: JobSettings,
    image: String,
}

impl CloneJobTemplate {
    pub fn new(settings: &JobSettings, image: impl Into<String>) -> Self {
        CloneJobTemplate {
            settings: settings.clone(),
            image: image.into(),
        }
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    /// The namespace its Jobs are created in.
    pub fn namespace(&self) -> &str {
        &self.settings.namespace
    }

    /// How long a Job may run (`CLONE_JOB_TIMEOUT_SECONDS`): its `activeDeadlineSeconds`,
    /// and how long demo-session waits for it.
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// The Job for `target`.
    pub fn job_for(&self, target: &CloneTarget) -> Job {
        let labels = target.labels();
        let deadline = i64::try_from(self.timeout().as_secs()).unwrap_or(120);
        Job {
            metadata: ObjectMeta {
                name: Some(target.job_name()),
                namespace: Some(self.settings.namespace.clone()),
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(JobSpec {
                backoff_limit: Some(2),
                active_deadline_seconds: Some(deadline),
                ttl_seconds_after_finished: Some(600),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..ObjectMeta::default()
                    }),
                    spec: Some(self.pod_spec(target)),
                },
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    /// The settings ConfigMap, then the Secret: for a variable in both, the Secret wins.
    fn env_from(&self) -> Vec<EnvFromSource> {
        vec![
            EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: self.settings.config_map.clone(),
                    optional: Some(false),
                }),
                ..EnvFromSource::default()
            },
            EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: self.settings.secret_name.clone(),
                    optional: Some(false),
                }),
                ..EnvFromSource::default()
            },
        ]
    }

    /// One non-root container running `clone-demo-tenant`, no service account token, the
    /// optional CA bundle.
    fn pod_spec(&self, target: &CloneTarget) -> PodSpec {
        PodSpec {
            restart_policy: Some("Never".to_owned()),
            service_account_name: Some(self.settings.service_account.clone()),
            automount_service_account_token: Some(false),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                // the image's non-root user (distroless `nonroot`)
                run_as_user: Some(65532),
                run_as_group: Some(65532),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_owned(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            }),
            containers: vec![self.container(target)],
            volumes: Some(vec![Volume {
                name: "ca".to_owned(),
                config_map: Some(ConfigMapVolumeSource {
                    name: CA_CONFIG_MAP.to_owned(),
                    optional: Some(true),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            }]),
            ..PodSpec::default()
        }
    }

    /// `clone-demo-tenant <target>`, small, read-only, without capabilities.
    fn container(&self, target: &CloneTarget) -> Container {
        let quantity = |s: &str| Quantity(s.to_owned());
        Container {
            name: "clone".to_owned(),
            image: Some(self.image.clone()),
            // the node already runs this image (demo-session's own)
            image_pull_policy: Some("IfNotPresent".to_owned()),
            command: Some(vec!["clone-demo-tenant".to_owned()]),
            args: Some(target.work().to_args()),
            env_from: Some(self.env_from()),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_owned(), quantity("50m")),
                    ("memory".to_owned(), quantity("32Mi")),
                ])),
                limits: Some(BTreeMap::from([
                    ("cpu".to_owned(), quantity("500m")),
                    ("memory".to_owned(), quantity("128Mi")),
                ])),
                ..ResourceRequirements::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".to_owned()]),
                    ..Capabilities::default()
                }),
                ..SecurityContext::default()
            }),
            volume_mounts: Some(vec![VolumeMount {
                name: "ca".to_owned(),
                mount_path: CA_MOUNT.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            }]),
            ..Container::default()
        }
    }
}

pub struct JobCloner {
    client: Client,
    template: CloneJobTemplate,
}

impl JobCloner {
    /// Connects to the API server (in-cluster, or `KUBERNETES_API_URL`). The image is
    /// `CLONE_JOB_IMAGE` (required: settings refuse `k8s-job` without it); nothing is read
    /// from the cluster, so the Role needs no access to pods.
    pub async fn new(settings: &JobSettings) -> anyhow::Result<Self> {
        let client = match &settings.api_url {
            Some(url) => Client::try_from(Config::new(url.parse()?))?,
            None => Client::try_default().await?,
        };
        let image = settings.image.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "CLONE_STRATEGY=k8s-job needs CLONE_JOB_IMAGE (the image the clone Jobs run)"
            )
        })?;
        Ok(JobCloner {
            client,
            template: CloneJobTemplate::new(settings, image),
        })
    }

    pub fn image(&self) -> &str {
        self.template.image()
    }

    /// Creates the Job for `target` and waits, watching it, until it succeeds, fails or
    /// times out. A Job that did not succeed is deleted before this returns.
    pub async fn run(&self, target: &CloneTarget) -> Result<(), JobError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), self.template.namespace());
        let name = target.job_name();
        match jobs
            .create(&PostParams::default(), &self.template.job_for(target))
            .await
        {
            Ok(_) => {}
            // a retried create: follow the Job that exists
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(source) => return Err(JobError::Create { name, source }),
        }
        let outcome = self.follow(&jobs, &name).await;
        if outcome.is_err() {
            // the caller removes whatever the clone wrote next: a pod still running must
            // not write after that, so the Job goes first, its pods with it
            if let Err(e) = jobs.delete(&name, &DeleteParams::background()).await
                && !matches!(&e, kube::Error::Api(s) if s.code == 404)
            {
                tracing::warn!(job = %name, error = %chain(&e), "could not delete the failed clone Job");
            }
        }
        outcome
    }

    /// Watches the Job until it has an outcome, for at most `CLONE_JOB_TIMEOUT_SECONDS`.
    async fn follow(&self, jobs: &Api<Job>, name: &str) -> Result<(), JobError> {
        let finished = await_condition(jobs.clone(), name, |job: Option<&Job>| {
            job.is_some_and(|j| job_outcome(j).is_some())
        });
        let name = name.to_owned();
        let timeout = self.template.timeout();
        match tokio::time::timeout(timeout, finished).await {
            Err(_) => Err(JobError::Timeout { name, timeout }),
            Ok(Err(source)) => Err(JobError::Watch { name, source }),
            Ok(Ok(job)) => match job.as_ref().and_then(job_outcome) {
                Some(JobOutcome::Succeeded) => Ok(()),
                Some(JobOutcome::Failed(reason)) => Err(JobError::Failed { name, reason }),
                None => Err(JobError::Disappeared { name }),
            },
        }
    }
}

/// Why a clone Job did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("creating Job {name}")]
    Create {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("watching Job {name}")]
    Watch {
        name: String,
        #[source]
        source: kube::runtime::wait::Error,
    },
    #[error("Job {name} did not finish within {timeout:?}")]
    Timeout { name: String, timeout: Duration },
    /// Kubernetes marked it failed; `reason` is the condition's message (or reason).
    #[error("Job {name} failed: {reason}")]
    Failed { name: String, reason: String },
    #[error("Job {name} disappeared")]
    Disappeared { name: String },
}

/// `clone-<virtual tenant id>`: a valid DNS label, unique per session.
pub fn job_name(virtual_tenant: Uuid) -> String {
    format!("clone-{}", virtual_tenant.simple())
}

/// How a finished Job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded,
    /// The `Failed` condition's message (else its reason).
    Failed(String),
}

/// The Job's outcome once it has one; `None` while it runs.
pub fn job_outcome(job: &Job) -> Option<JobOutcome> {
    let status = job.status.as_ref()?;
    if status.succeeded.unwrap_or(0) > 0 {
        return Some(JobOutcome::Succeeded);
    }
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")
        .map(|c| {
            JobOutcome::Failed(
                c.message
                    .clone()
                    .or_else(|| c.reason.clone())
                    .unwrap_or_else(|| "failed".to_owned()),
            )
        })
}
