//! The `k8s-job` clone strategy: one `batch/v1` Job per session running
//! `clone-demo-tenant --session-id <id>`, followed with a watch until it succeeds, fails or
//! times out.

use std::collections::BTreeMap;
use std::time::Duration;

use bakery_config::demo::SessionId;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, Container, EnvFromSource, Pod, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SeccompProfile, SecretEnvSource, SecurityContext,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::{Client, Config};
use uuid::Uuid;

use crate::settings::JobSettings;
use bakery_config::http::chain;

/// Label carrying the session id on the Job and its pod.
pub const SESSION_LABEL: &str = "bakery-ia/demo-session-id";

pub struct JobCloner {
    client: Client,
    settings: JobSettings,
    image: String,
}

impl JobCloner {
    /// Connects to the API server (in-cluster, or `KUBERNETES_API_URL`) and settles the
    /// image: `CLONE_JOB_IMAGE`, else the image of this very pod, so the Job always runs the
    /// build that is serving (Tilt or a release) without hand patching.
    pub async fn new(settings: &JobSettings) -> anyhow::Result<Self> {
        let client = match &settings.api_url {
            Some(url) => Client::try_from(Config::new(url.parse()?))?,
            None => Client::try_default().await?,
        };
        let image = match (&settings.image, &settings.pod_name) {
            (Some(image), _) => image.clone(),
            (None, Some(pod)) => {
                let pods: Api<Pod> = Api::namespaced(client.clone(), &settings.namespace);
                let own = pods.get(pod).await?;
                own.spec
                    .and_then(|s| s.containers.into_iter().next())
                    .and_then(|c| c.image)
                    .ok_or_else(|| anyhow::anyhow!("pod {pod} has no container image"))?
            }
            (None, None) => anyhow::bail!(
                "CLONE_STRATEGY=k8s-job needs CLONE_JOB_IMAGE, or POD_NAME and POD_NAMESPACE from the downward API"
            ),
        };
        Ok(JobCloner {
            client,
            settings: settings.clone(),
            image,
        })
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    /// The settings ConfigMap (if any), then the Secret: for a variable in both, the
    /// Secret wins.
    fn env_from(&self) -> Vec<EnvFromSource> {
        let config_map = self.settings.config_map.as_ref().map(|name| EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: name.clone(),
                optional: Some(false),
            }),
            ..EnvFromSource::default()
        });
        let secret = EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: self.settings.secret_name.clone(),
                optional: Some(false),
            }),
            ..EnvFromSource::default()
        };
        config_map.into_iter().chain([secret]).collect()
    }

    /// The Job for one session (named after its virtual tenant, see [`job_name`]).
    pub fn job_for(&self, session: &SessionId, virtual_tenant: Uuid) -> Job {
        let labels = labels(session);
        let deadline = i64::try_from(self.settings.timeout.as_secs()).unwrap_or(120);
        Job {
            metadata: ObjectMeta {
                name: Some(job_name(virtual_tenant)),
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
                    spec: Some(self.pod_spec(session)),
                },
                ..JobSpec::default()
            }),
            ..Job::default()
        }
    }

    /// One non-root container running `clone-demo-tenant`, no service account token.
    fn pod_spec(&self, session: &SessionId) -> PodSpec {
        PodSpec {
            restart_policy: Some("Never".to_owned()),
            service_account_name: self.settings.service_account.clone(),
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
            containers: vec![self.container(session)],
            ..PodSpec::default()
        }
    }

    /// `clone-demo-tenant --session-id <id>`, small, read-only, without capabilities.
    fn container(&self, session: &SessionId) -> Container {
        let quantity = |s: &str| Quantity(s.to_owned());
        Container {
            name: "clone".to_owned(),
            image: Some(self.image.clone()),
            command: Some(vec!["clone-demo-tenant".to_owned()]),
            args: Some(vec!["--session-id".to_owned(), session.to_string()]),
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
            ..Container::default()
        }
    }

    /// Creates the Job for `session` (which clones into `virtual_tenant`) and waits,
    /// watching it, until it succeeds, fails or times out. A Job that did not succeed is
    /// deleted before this returns.
    pub async fn run(&self, session: &SessionId, virtual_tenant: Uuid) -> Result<(), JobError> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.settings.namespace);
        let name = job_name(virtual_tenant);
        match jobs
            .create(
                &PostParams::default(),
                &self.job_for(session, virtual_tenant),
            )
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
        match tokio::time::timeout(self.settings.timeout, finished).await {
            Err(_) => Err(JobError::Timeout {
                name,
                timeout: self.settings.timeout,
            }),
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

/// The labels of the Job and its pod.
fn labels(session: &SessionId) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_owned(),
            "clone-demo-tenant".to_owned(),
        ),
        (
            "app.kubernetes.io/part-of".to_owned(),
            "bakery-ia".to_owned(),
        ),
        (SESSION_LABEL.to_owned(), session.to_string()),
    ])
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
