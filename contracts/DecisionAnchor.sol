// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title DecisionAnchor
 * @notice Append-only on-chain record of claimtrail's fraud decisions. The chain stores only
 * 32-byte commitments: Merkle roots of decision batches, individual leaves of flagged decisions,
 * and hashes of the models that made them. No claim data (PHI) is ever passed to this contract.
 *
 * Three kinds of record, each written at most once and never changed or deleted:
 *
 * - Batches: the Merkle root over a deterministic batch of decisions (a contiguous offset range
 *   of one `decisions` log partition). The tree is a `StandardMerkleTree` of OpenZeppelin's
 *   merkle-tree JavaScript library: sorted-pair keccak256 internal nodes and double-hashed
 *   leaves `keccak256(bytes.concat(keccak256(abi.encode(...))))`.
 * - Flagged decisions: the leaf of a decision that flagged a claim, anchored on its own as soon
 *   as it is made, before its batch closes. The same leaf later appears in a batch.
 * - Models: the hash of a scoring model, with who registered it, when, and where its metadata
 *   lives.
 *
 * Roles: `DEFAULT_ADMIN_ROLE` grants and revokes roles and may pause; `ANCHORER_ROLE` anchors
 * batches and flagged decisions; `MODEL_REGISTRAR_ROLE` registers models. While paused, every
 * write reverts with {Pausable-EnforcedPause}; views keep working.
 *
 * WARNING: The append-only guarantee covers this deployment only. Anyone holding
 * `DEFAULT_ADMIN_ROLE` can grant `ANCHORER_ROLE` to any account, which can then anchor
 * arbitrary roots under batch ids not yet used. Verifiers therefore trust the admin key to
 * authorise only claimtrail's anchor workers; keep it in a multisig or hardware wallet, separate
 * from the hot anchorer keys.
 */
contract DecisionAnchor is AccessControl, Pausable {
    /// @notice Role allowed to call {anchorBatch}, {anchorBatches} and {anchorFlagged}.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @notice Role allowed to call {registerModel}.
    bytes32 public constant MODEL_REGISTRAR_ROLE = keccak256("MODEL_REGISTRAR_ROLE");

    /**
     * @notice An anchored batch. Packed into two storage slots.
     * @param root Merkle root of the batch (never zero once anchored; zero means "not anchored").
     * @param leafCount Number of decisions (leaves) in the batch, as stated by the anchorer.
     * @param anchoredAt `block.timestamp` (seconds since the Unix epoch) of the anchoring block.
     * @param anchoredBlock `block.number` of the anchoring block.
     */
    struct Batch {
        bytes32 root;
        uint32 leafCount;
        uint64 anchoredAt;
        uint64 anchoredBlock;
    }

    /**
     * @notice A registered model.
     * @param registrant Account that registered the model (zero means "not registered").
     * @param registeredAt `block.timestamp` (seconds since the Unix epoch) of the registering block.
     * @param metadataURI Where the model's card / artifacts are described (for example an
     * `ipfs://` or `https://` URI). Not validated on chain.
     */
    struct Model {
        address registrant;
        uint64 registeredAt;
        string metadataURI;
    }

    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 leaf => uint64 anchoredAt) private _flaggedAnchoredAt;
    mapping(bytes32 modelHash => Model) private _models;

    /**
     * @notice A batch id was already anchored; the first root stays.
     * @param batchId The batch id passed in.
     * @param storedRoot The root anchored earlier under `batchId` (compare it with yours: equal
     * means the earlier anchoring already did the job).
     */
    error DecisionAnchorBatchExists(bytes32 batchId, bytes32 storedRoot);

    /**
     * @notice A batch was passed with a zero root or a zero leaf count.
     * @param batchId The batch id passed in.
     */
    error DecisionAnchorInvalidBatch(bytes32 batchId);

    /**
     * @notice The arrays passed to {anchorBatches} have different lengths.
     * @param ids Length of `ids`.
     * @param roots Length of `roots`.
     * @param leafCounts Length of `leafCounts`.
     */
    error DecisionAnchorLengthMismatch(uint256 ids, uint256 roots, uint256 leafCounts);

    /// @notice An empty array was passed to {anchorBatches} or {anchorFlagged}.
    error DecisionAnchorEmptyInput();

    /**
     * @notice A flagged decision's leaf was already anchored.
     * @param leaf The leaf passed in.
     */
    error DecisionAnchorFlaggedExists(bytes32 leaf);

    /**
     * @notice A zero leaf was passed to {anchorFlagged}.
     * @param leaf The leaf passed in (always zero).
     */
    error DecisionAnchorInvalidLeaf(bytes32 leaf);

    /**
     * @notice A model hash was already registered.
     * @param modelHash The model hash passed in.
     */
    error DecisionAnchorModelExists(bytes32 modelHash);

    /**
     * @notice A zero model hash was passed to {registerModel}.
     * @param modelHash The model hash passed in (always zero).
     */
    error DecisionAnchorInvalidModel(bytes32 modelHash);

    /**
     * @notice The constructor was given the zero address as admin.
     * @param admin The admin passed in (always zero).
     */
    error DecisionAnchorInvalidAdmin(address admin);

    /**
     * @notice A batch root was anchored.
     * @param batchId The batch id (derived off chain from topic, partition and offset range).
     * @param root The batch's Merkle root.
     * @param leafCount Number of decisions in the batch.
     */
    event BatchAnchored(bytes32 indexed batchId, bytes32 indexed root, uint32 leafCount);

    /**
     * @notice A flagged decision's leaf was anchored on its own.
     * @param leaf The decision's StandardMerkleTree leaf hash.
     */
    event FlaggedDecisionAnchored(bytes32 indexed leaf);

    /**
     * @notice A model was registered.
     * @param modelHash The model's hash.
     * @param registrant The account that registered it.
     * @param metadataURI Where the model's metadata lives.
     */
    event ModelRegistered(bytes32 indexed modelHash, address indexed registrant, string metadataURI);

    /**
     * @notice Deploys the anchor with `admin` holding `DEFAULT_ADMIN_ROLE` and no other role
     * granted: the admin then grants `ANCHORER_ROLE` and `MODEL_REGISTRAR_ROLE` explicitly.
     * @param admin Account that administers roles and pausing. Reverts with
     * {DecisionAnchorInvalidAdmin} when zero (the contract could never be administered).
     */
    constructor(address admin) {
        if (admin == address(0)) revert DecisionAnchorInvalidAdmin(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /**
     * @notice Anchors the Merkle root of one decision batch.
     * @dev Requires `ANCHORER_ROLE` and not paused. Emits {BatchAnchored}.
     * Reverts with {DecisionAnchorInvalidBatch} when `root` or `leafCount` is zero, and with
     * {DecisionAnchorBatchExists} when `batchId` was anchored before, even with the same root:
     * callers retrying after an unknown outcome read {batchOf} and treat an equal stored root
     * as success.
     * @param batchId Deterministic id of the batch.
     * @param root StandardMerkleTree root of the batch.
     * @param leafCount Number of decisions in the batch (informational; not checked against the
     * tree, which the contract never sees).
     */
    function anchorBatch(bytes32 batchId, bytes32 root, uint32 leafCount)
        external
        onlyRole(ANCHORER_ROLE)
        whenNotPaused
    {
        _anchorBatch(batchId, root, leafCount);
    }

    /**
     * @notice Anchors several batch roots in one transaction (for example a backlog after an
     * outage). All or nothing: if any entry is invalid or any id already exists (on chain or
     * earlier in the same call), the whole call reverts with that entry's error and nothing is
     * written.
     * @dev Requires `ANCHORER_ROLE` and not paused. Emits one {BatchAnchored} per entry, in
     * order. Reverts with {DecisionAnchorLengthMismatch} when the arrays differ in length and
     * with {DecisionAnchorEmptyInput} when they are empty; otherwise as {anchorBatch}.
     * The caller bounds the array length to fit the transaction gas limit (about 49k gas per
     * batch; since Osaka a transaction may use at most 2^24 gas, so at most ~300 batches).
     * @param ids Batch ids.
     * @param roots Batch roots, `roots[i]` for `ids[i]`.
     * @param leafCounts Leaf counts, `leafCounts[i]` for `ids[i]`.
     */
    function anchorBatches(bytes32[] calldata ids, bytes32[] calldata roots, uint32[] calldata leafCounts)
        external
        onlyRole(ANCHORER_ROLE)
        whenNotPaused
    {
        uint256 n = ids.length;
        if (n != roots.length || n != leafCounts.length) {
            revert DecisionAnchorLengthMismatch(n, roots.length, leafCounts.length);
        }
        if (n == 0) revert DecisionAnchorEmptyInput();
        for (uint256 i = 0; i < n; ++i) {
            _anchorBatch(ids[i], roots[i], leafCounts[i]);
        }
    }

    /**
     * @notice Anchors the leaves of flagged decisions individually, recording when each was
     * anchored. Each leaf is the same StandardMerkleTree leaf the decision will have in its batch
     * (a hash; no claim data). All or nothing, like {anchorBatches}.
     * @dev Requires `ANCHORER_ROLE` and not paused. Emits one {FlaggedDecisionAnchored} per leaf,
     * in order. Reverts with {DecisionAnchorEmptyInput} when `leaves` is empty, with
     * {DecisionAnchorInvalidLeaf} for a zero leaf and with {DecisionAnchorFlaggedExists} for a
     * leaf anchored before (on chain or earlier in the same call).
     * The caller bounds the array length to fit the transaction gas limit (about 25k gas per
     * leaf; since Osaka a transaction may use at most 2^24 gas, so at most ~600 leaves).
     * @param leaves Leaf hashes of flagged decisions.
     */
    function anchorFlagged(bytes32[] calldata leaves) external onlyRole(ANCHORER_ROLE) whenNotPaused {
        uint256 n = leaves.length;
        if (n == 0) revert DecisionAnchorEmptyInput();
        uint64 timestamp = uint64(block.timestamp);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 leaf = leaves[i];
            if (leaf == bytes32(0)) revert DecisionAnchorInvalidLeaf(leaf);
            if (_flaggedAnchoredAt[leaf] != 0) revert DecisionAnchorFlaggedExists(leaf);
            _flaggedAnchoredAt[leaf] = timestamp;
            emit FlaggedDecisionAnchored(leaf);
        }
    }

    /**
     * @notice Registers a scoring model's hash so decisions can name the exact model that made
     * them.
     * @dev Requires `MODEL_REGISTRAR_ROLE` and not paused. Emits {ModelRegistered}. Reverts with
     * {DecisionAnchorInvalidModel} for a zero hash and {DecisionAnchorModelExists} when the hash
     * was registered before.
     * @param modelHash Hash of the model artifacts (computed off chain).
     * @param metadataURI Where the model's metadata lives; stored as given.
     */
    function registerModel(bytes32 modelHash, string calldata metadataURI)
        external
        onlyRole(MODEL_REGISTRAR_ROLE)
        whenNotPaused
    {
        if (modelHash == bytes32(0)) revert DecisionAnchorInvalidModel(modelHash);
        Model storage model = _models[modelHash];
        if (model.registrant != address(0)) revert DecisionAnchorModelExists(modelHash);
        model.registrant = msg.sender;
        model.registeredAt = uint64(block.timestamp);
        model.metadataURI = metadataURI;
        emit ModelRegistered(modelHash, msg.sender, metadataURI);
    }

    /**
     * @notice Stops every write ({anchorBatch}, {anchorBatches}, {anchorFlagged},
     * {registerModel}) until {unpause}. Views keep working.
     * @dev Requires `DEFAULT_ADMIN_ROLE`. Reverts with {Pausable-EnforcedPause} when already
     * paused. Emits {Pausable-Paused}.
     */
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /**
     * @notice Resumes writes after {pause}.
     * @dev Requires `DEFAULT_ADMIN_ROLE`. Reverts with {Pausable-ExpectedPause} when not paused.
     * Emits {Pausable-Unpaused}.
     */
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /**
     * @notice Returns an anchored batch. All fields are zero when `batchId` was never anchored
     * (a zero `root` is the test: anchored roots are never zero).
     * @param batchId The batch id.
     * @return root The batch's Merkle root.
     * @return leafCount Number of decisions in the batch.
     * @return anchoredAt `block.timestamp` of the anchoring block (seconds).
     * @return anchoredBlock `block.number` of the anchoring block.
     */
    function batchOf(bytes32 batchId)
        external
        view
        returns (bytes32 root, uint32 leafCount, uint64 anchoredAt, uint64 anchoredBlock)
    {
        Batch storage batch = _batches[batchId];
        return (batch.root, batch.leafCount, batch.anchoredAt, batch.anchoredBlock);
    }

    /**
     * @notice Returns when a flagged decision's leaf was anchored, or 0 if it never was.
     * @param leaf The leaf hash.
     * @return anchoredAt `block.timestamp` (seconds) of the anchoring block, or 0.
     */
    function flaggedAnchoredAt(bytes32 leaf) external view returns (uint64 anchoredAt) {
        return _flaggedAnchoredAt[leaf];
    }

    /**
     * @notice Returns a registered model. `registrant` is the zero address (and the other
     * fields empty) when `modelHash` was never registered.
     * @param modelHash The model hash.
     * @return registrant Account that registered the model.
     * @return registeredAt `block.timestamp` (seconds) of the registering block.
     * @return metadataURI Where the model's metadata lives.
     */
    function modelOf(bytes32 modelHash)
        external
        view
        returns (address registrant, uint64 registeredAt, string memory metadataURI)
    {
        Model storage model = _models[modelHash];
        return (model.registrant, model.registeredAt, model.metadataURI);
    }

    /**
     * @notice Returns true when `batchId` is anchored and `proof` shows `leaf` under its root
     * (OpenZeppelin {MerkleProof-verifyCalldata}: sorted-pair keccak256, the same hashing as
     * OpenZeppelin's JavaScript `StandardMerkleTree`). Returns false for an unknown batch.
     *
     * WARNING: `leaf` must be computed by the verifier itself from the decision's values, as
     * `keccak256(bytes.concat(keccak256(abi.encode(...))))` over claimtrail's leaf tuple; never
     * accept a leaf hash from the party whose decision is being checked. This function cannot
     * tell a leaf from an internal node: any node of the tree, passed as `leaf` with the rest of
     * its path as `proof`, returns true. What makes a recomputed leaf safe is the double hash.
     * An internal node is `keccak256` of exactly 64 bytes (two sorted child hashes). With a
     * single-hashed leaf, a decision tuple that ABI-encodes to 64 bytes (two 32-byte words)
     * would hash exactly like an internal node, so an attacker could present an internal
     * node's two children as "decision values" and pass verification (a second preimage of
     * the tree). A double-hashed leaf is `keccak256` of a 32-byte inner hash; for it to equal
     * an internal node, `keccak256(x) == keccak256(y)` would need a 32-byte `x` and a 64-byte
     * `y`, that is a keccak256 collision, which is computationally infeasible. So no decision
     * values recomputed into a leaf can land on an internal node, and a proof that verifies for
     * a recomputed leaf proves that exact decision is in the batch.
     * @param batchId The batch id.
     * @param leaf The decision's leaf hash, recomputed by the verifier (see the warning).
     * @param proof Sibling hashes from the leaf up to the root, as produced by
     * `StandardMerkleTree.getProof`.
     * @return True when the batch exists and the proof leads from `leaf` to its root.
     */
    function verifyDecision(bytes32 batchId, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _batches[batchId].root;
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @dev Validates and writes one batch, then emits {BatchAnchored}. Caller checks role and pause.
    function _anchorBatch(bytes32 batchId, bytes32 root, uint32 leafCount) private {
        if (root == bytes32(0) || leafCount == 0) revert DecisionAnchorInvalidBatch(batchId);
        Batch storage batch = _batches[batchId];
        bytes32 storedRoot = batch.root;
        if (storedRoot != bytes32(0)) revert DecisionAnchorBatchExists(batchId, storedRoot);
        batch.root = root;
        batch.leafCount = leafCount;
        batch.anchoredAt = uint64(block.timestamp);
        batch.anchoredBlock = uint64(block.number);
        emit BatchAnchored(batchId, root, leafCount);
    }
}
