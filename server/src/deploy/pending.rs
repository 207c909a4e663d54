//! TEMPORARY (removed at the engine merge): the engine's entry points as the contract names them.
#![allow(clippy::all, unused_variables, dead_code)]
use super::*;
use uuid::Uuid;
#[derive(Clone, Default)]
pub struct Discoveries;
pub trait Source: Send + Sync {}
pub struct GitSource { pub mirror: crate::git::Mirror, pub commit: String }
impl Source for GitSource {}
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Preview { pub create: Vec<ObjectRef> }
pub fn render(source: &dyn Source, paths: &[String], watched: &[String], renderer: Renderer) -> Result<Vec<Manifest>, DeployError> { unimplemented!() }
pub async fn execute(client: &kube::Client, d: &Discoveries, env: (Uuid, i32), m: &[Manifest], prev: &[ObjectRef], s: &StackIdentity, p: &Policy, progress: &(dyn Fn(&ObjectResult) + Send + Sync)) -> Outcome { unimplemented!() }
pub async fn preview(client: &kube::Client, d: &Discoveries, env: (Uuid, i32), m: &[Manifest], prev: &[ObjectRef], s: &StackIdentity, p: &Policy) -> Result<Preview, DeployError> { unimplemented!() }
pub async fn remove_all(client: &kube::Client, d: &Discoveries, env: (Uuid, i32), inv: &[ObjectRef], s: &StackIdentity) -> Outcome { unimplemented!() }
