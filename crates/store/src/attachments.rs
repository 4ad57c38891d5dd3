//! Attachments: the documents (invoices, contracts, photos) an expenditure
//! lists by name, size and SHA-256 (docs/format.md §5.3), kept by the
//! server so that a committee member can check them before co-signing.
//!
//! Blobs are not in the log: the log binds only their hash and size, in
//! the signed body. They live in a sled tree of their own (`attachments`,
//! beside the ledger's tree in its directory's `Db`), keyed by their
//! SHA-256, so the ledger's tree, its layout ([`crate::STORE_FORMAT`]),
//! its backups and its audit are exactly as they were without them.
//!
//! Only a signed proposal authorizes storage: [`Store::put_attachment`]
//! takes bytes only for a proposal (pending or committed) that lists an
//! attachment of exactly that SHA-256 and byte count, and only bytes that
//! hash to it, at most [`ATTACHMENT_BYTES_MAX`]. Nobody can fill the disk
//! with files no proposal names, and nobody can store other bytes under a
//! listed hash. A stored blob is flushed before the put returns, and its
//! hash is checked again when it is read back.

use crate::{Store, StoreError};
use feeledger_core::entry::{Attachment, Body, Content, Leaf};
use feeledger_core::hash::{sha256, Hash};

/// Largest attachment the store keeps, in bytes (10 MiB): a scanned
/// invoice or a phone photo of a contract fits; a video does not. An
/// expenditure may still list a larger document (the format sets no
/// bound); the store only refuses to keep it.
pub const ATTACHMENT_BYTES_MAX: u64 = 10 * 1024 * 1024;

/// The name of the sled tree that holds the blobs, in the ledger's
/// directory's `Db`.
pub const ATTACHMENTS_TREE: &str = "attachments";

/// Why an attachment was not stored or cannot be read. Nothing is stored
/// when a put fails.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("no pending or committed proposal {id}")]
    NoProposal { id: Hash },
    #[error("proposal {id} lists no attachment with SHA-256 {sha256}; only a file the signed proposal names is kept")]
    NotListed { id: Hash, sha256: Hash },
    #[error("attachment {name:?} is listed as {listed_bytes} bytes; {sent_bytes} bytes were sent")]
    WrongSize {
        name: String,
        listed_bytes: u64,
        sent_bytes: u64,
    },
    #[error("the bytes sent hash to SHA-256 {actual}, not {listed} as the proposal lists")]
    HashMismatch { listed: Hash, actual: Hash },
    #[error("an attachment of {bytes} bytes is over the limit of {ATTACHMENT_BYTES_MAX} bytes")]
    TooLarge { bytes: u64 },
    #[error("this store lives in a tree of a shared database and keeps no attachments")]
    NoAttachmentTree,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sled::Error> for AttachmentError {
    fn from(e: sled::Error) -> AttachmentError {
        AttachmentError::Store(StoreError::from(e))
    }
}

impl AttachmentError {
    /// The stable code an API error carries.
    pub fn code(&self) -> &'static str {
        match self {
            AttachmentError::NoProposal { .. } => "not_found",
            AttachmentError::NotListed { .. } => "attachment_not_listed",
            AttachmentError::WrongSize { .. } => "attachment_wrong_size",
            AttachmentError::HashMismatch { .. } => "attachment_hash_mismatch",
            AttachmentError::TooLarge { .. } => "too_large",
            AttachmentError::NoAttachmentTree => "no_attachment_store",
            AttachmentError::Store(e) => e.code(),
        }
    }
}

/// What a successful put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentPut {
    /// The bytes were stored now.
    Stored,
    /// The same bytes were already stored (the key is their hash).
    AlreadyStored,
}

/// The attachments an entry body lists (only an expenditure lists any).
pub fn listed_attachments(body: &Body) -> &[Attachment] {
    match &body.content {
        Content::Expenditure(e) => &e.attachments,
        _ => &[],
    }
}

impl Store {
    /// The tree of blobs: in the ledger's own `Db`, or its own tree in a
    /// shared one ([`crate::Backing::Shared`]).
    fn attachment_tree(&self) -> Result<sled::Tree, AttachmentError> {
        if let Some(tree) = self.shared_attachments() {
            return Ok(tree.clone());
        }
        match self.own_db() {
            Some(db) => Ok(db.open_tree(ATTACHMENTS_TREE)?),
            None => Err(AttachmentError::NoAttachmentTree),
        }
    }

    /// The body of proposal `id`: pending, or committed (found by its body
    /// id, which is the proposal id).
    ///
    /// # Errors
    /// [`AttachmentError::NoProposal`] if there is none; a storage failure
    /// or a stored record that does not decode as [`AttachmentError::Store`].
    pub fn proposal_body(&self, id: &Hash) -> Result<Body, AttachmentError> {
        if let Some(p) = self.proposal(id)? {
            return Ok(p.decoded_body()?);
        }
        let Some(seq) = self.seq_of_body(id)? else {
            return Err(AttachmentError::NoProposal { id: *id });
        };
        let bytes = self.leaf_bytes(seq)?.ok_or_else(|| {
            StoreError::damaged(format!("body {id} indexes leaf {seq}, which is missing"))
        })?;
        let leaf = Leaf::decode(&bytes)
            .map_err(|e| StoreError::damaged(format!("leaf {seq} does not decode: {e}")))?;
        Ok(leaf.body)
    }

    /// Keeps `bytes` as the attachment with SHA-256 `listed` of proposal
    /// `id`, flushed before it returns.
    ///
    /// # Errors
    /// [`AttachmentError::TooLarge`] over [`ATTACHMENT_BYTES_MAX`];
    /// [`AttachmentError::NoProposal`] for an unknown proposal;
    /// [`AttachmentError::NotListed`] if the proposal lists no such hash;
    /// [`AttachmentError::WrongSize`] or [`AttachmentError::HashMismatch`]
    /// if the bytes are not the ones listed; a storage failure. Nothing is
    /// stored on error.
    pub fn put_attachment(
        &self,
        id: &Hash,
        listed: &Hash,
        bytes: &[u8],
    ) -> Result<AttachmentPut, AttachmentError> {
        let sent_bytes = bytes.len() as u64;
        if sent_bytes > ATTACHMENT_BYTES_MAX {
            return Err(AttachmentError::TooLarge { bytes: sent_bytes });
        }
        let body = self.proposal_body(id)?;
        let attachment = listed_attachments(&body)
            .iter()
            .find(|a| a.sha256 == *listed)
            .ok_or(AttachmentError::NotListed {
                id: *id,
                sha256: *listed,
            })?;
        if attachment.bytes != sent_bytes {
            return Err(AttachmentError::WrongSize {
                name: attachment.name.clone(),
                listed_bytes: attachment.bytes,
                sent_bytes,
            });
        }
        let actual = sha256(bytes);
        if actual != *listed {
            return Err(AttachmentError::HashMismatch {
                listed: *listed,
                actual,
            });
        }
        let tree = self.attachment_tree()?;
        if tree.contains_key(listed.as_bytes())? {
            return Ok(AttachmentPut::AlreadyStored);
        }
        tree.insert(listed.as_bytes(), bytes)?;
        tree.flush()?;
        Ok(AttachmentPut::Stored)
    }

    /// The stored attachment with SHA-256 `sha256`, if any, checked
    /// against its hash as it is read back.
    ///
    /// # Errors
    /// A storage failure; stored bytes that no longer hash to their key
    /// are damage ([`StoreError::Damaged`]).
    pub fn attachment(&self, sha256_listed: &Hash) -> Result<Option<Vec<u8>>, AttachmentError> {
        let tree = self.attachment_tree()?;
        let Some(bytes) = tree.get(sha256_listed.as_bytes())? else {
            return Ok(None);
        };
        if sha256(&bytes) != *sha256_listed {
            return Err(StoreError::damaged(format!(
                "attachment {sha256_listed} no longer hashes to its name"
            ))
            .into());
        }
        Ok(Some(bytes.to_vec()))
    }

    /// Whether the attachment with SHA-256 `sha256` is stored (without
    /// reading it).
    ///
    /// # Errors
    /// A storage failure.
    pub fn has_attachment(&self, sha256_listed: &Hash) -> Result<bool, AttachmentError> {
        match self.attachment_tree() {
            Ok(tree) => Ok(tree.contains_key(sha256_listed.as_bytes())?),
            Err(AttachmentError::NoAttachmentTree) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
