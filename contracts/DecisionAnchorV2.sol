// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title DecisionAnchorV2
 * @notice Append-only on-chain record of claimtrail's fraud decisions, format v2
 * (docs/proof-format-v2.md). The chain stores only 32-byte commitments: Merkle roots of epochs
 * and of flagged trees, and hashes of the models that made the decisions. No claim data (PHI) is
 * ever passed to this contract, in writes or in views.
 *
 * Three kinds of record, each written at most once and never changed or deleted:
 *
 * - Epochs: the root of a tree of batch entries (`claimtrail-epoch-entry-v2`), each entry
 *   naming one batch (a contiguous offset range of one `decisions` log partition) and that
 *   batch's root over its `claimtrail-leaf-v2` decision leaves. One transaction commits many
 *   batches.
 * - Flagged roots: the root of a tree of `claimtrail-leaf-v2` leaves of flagged decisions,
 *   anchored early, before their epoch. The same leaves later appear in a batch and an epoch.
 * - Models: the hash of a scoring model, with who registered it, when, and where its metadata
 *   lives.
 *
 * Every tree is a `StandardMerkleTree` of OpenZeppelin's merkle-tree JavaScript library:
 * sorted-pair keccak256 internal nodes and double-hashed leaves
 * `keccak256(bytes.concat(keccak256(abi.encode(...))))`. {decisionLeaf}, {entryLeaf} and
 * {batchIdOf} are the on-chain definitions of the v2 encodings.
 *
 * Epochs and flagged roots are keyed by the anchoring account (`msg.sender`): an anchorer
 * writes only into its own namespace, so two insurers (or two installations) sharing this
 * contract cannot pre-empt or overwrite each other's ids.
 *
 * Roles: `DEFAULT_ADMIN_ROLE` grants and revokes roles and may pause; `ANCHORER_ROLE` anchors
 * epochs and flagged roots; `MODEL_REGISTRAR_ROLE` registers models. Each is given to a
 * different account at deployment, and no account ever holds both `DEFAULT_ADMIN_ROLE` and
 * `ANCHORER_ROLE` (granting one to a holder of the other reverts), so the hot anchoring key
 * can never administer roles. While paused, every write reverts with
 * {Pausable-EnforcedPause}; views keep working.
 *
 * WARNING: A record proves only that the account named as its anchorer wrote it on this
 * deployment. Anyone holding `DEFAULT_ADMIN_ROLE` can grant `ANCHORER_ROLE` to any account,
 * which can then anchor arbitrary roots under its own address (never under another
 * anchorer's). Verifiers therefore take the chain id, this contract's address and the
 * anchorer's address from their own trust anchor (the insurer's published trust file or the
 * command line), never from the bundle being checked. Keep the admin key in a multisig or
 * hardware wallet, separate from the hot anchorer keys.
 */
contract DecisionAnchorV2 is AccessControl, Pausable {
    /// @notice Role allowed to call {anchorEpoch} and {anchorFlaggedRoot}.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @notice Role allowed to call {registerModel}.
    bytes32 public constant MODEL_REGISTRAR_ROLE = keccak256("MODEL_REGISTRAR_ROLE");

    /// @notice Domain word, first field of every `claimtrail-leaf-v2` decision leaf.
    bytes32 public constant LEAF_DOMAIN = keccak256("claimtrail-leaf-v2");

    /// @notice Domain word, first field of every `claimtrail-epoch-entry-v2` batch entry.
    bytes32 public constant ENTRY_DOMAIN = keccak256("claimtrail-epoch-entry-v2");

    /// @notice Domain word, first field of the preimage of every v2 batch id.
    bytes32 public constant BATCH_DOMAIN = keccak256("claimtrail-batch-v2");

    /**
     * @notice The values of one decision, as bound by its `claimtrail-leaf-v2` leaf (the field
     * meanings and units are in docs/proof-format-v2.md and docs/leaf-encoding.md).
     * @param instanceId The claimtrail installation that made the decision.
     * @param decisionId Decision id v2 (sha256 over instance, run, model and log position).
     * @param claimCommitment Salted commitment to the claim (the claim itself never comes here).
     * @param scoreMicros Fraud score in millionths (0..1_000_000).
     * @param outcome Outcome code (as in v1).
     * @param modelHash Hash of the model that scored the claim.
     * @param reasonsHash keccak256 of the reason codes and micro-unit contributions (no text).
     * @param decidedAtMs When the decision was made, milliseconds since the Unix epoch.
     * @param logTopicHash keccak256 of the `decisions` topic name.
     * @param logPartition Partition of the decision's record on that topic.
     * @param logOffset Offset of the decision's record in that partition.
     */
    struct DecisionValues {
        bytes32 instanceId;
        bytes32 decisionId;
        bytes32 claimCommitment;
        uint32 scoreMicros;
        uint8 outcome;
        bytes32 modelHash;
        bytes32 reasonsHash;
        uint64 decidedAtMs;
        bytes32 logTopicHash;
        uint32 logPartition;
        uint64 logOffset;
    }

    /**
     * @notice One batch as committed in an epoch (a `claimtrail-epoch-entry-v2` leaf, with the
     * installation's `instanceId` alongside).
     * @param batchId Batch id v2, see {batchIdOf}.
     * @param batchRoot StandardMerkleTree root over the batch's decision leaves, in log order.
     * @param leafCount Number of decisions in the batch.
     * @param logTopicHash keccak256 of the `decisions` topic name.
     * @param logPartition The partition the batch covers.
     * @param firstOffset First offset of the batch's range (inclusive).
     * @param lastOffset Last offset of the batch's range (inclusive).
     */
    struct BatchEntry {
        bytes32 batchId;
        bytes32 batchRoot;
        uint32 leafCount;
        bytes32 logTopicHash;
        uint32 logPartition;
        uint64 firstOffset;
        uint64 lastOffset;
    }

    /**
     * @notice An anchored epoch. Packed into two storage slots.
     * @param root Root of the epoch's entry tree (never zero once anchored; zero means "not
     * anchored").
     * @param batchCount Number of batch entries in the epoch, as stated by the anchorer.
     * @param leafCount Number of decisions over all the epoch's batches, as stated by the
     * anchorer.
     * @param anchoredAt `block.timestamp` (seconds since the Unix epoch) of the anchoring block.
     * @param anchoredBlock `block.number` of the anchoring block.
     */
    struct Epoch {
        bytes32 root;
        uint32 batchCount;
        uint64 leafCount;
        uint64 anchoredAt;
        uint64 anchoredBlock;
    }

    /**
     * @notice An anchored flagged root. One storage slot.
     * @param count Number of flagged decisions (leaves) in the tree, as stated by the anchorer
     * (never zero once anchored; zero means "not anchored").
     * @param anchoredBlock `block.number` of the anchoring block.
     */
    struct FlaggedRoot {
        uint32 count;
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

    mapping(address anchorer => mapping(bytes32 epochId => Epoch)) private _epochs;
    mapping(address anchorer => mapping(bytes32 root => FlaggedRoot)) private _flaggedRoots;
    mapping(bytes32 modelHash => Model) private _models;

    /**
     * @notice The constructor was given a zero address, or the same address for two roles.
     * @param admin The admin passed in.
     * @param anchorer The anchorer passed in.
     * @param registrar The model registrar passed in.
     */
    error DecisionAnchorV2InvalidRoleHolders(address admin, address anchorer, address registrar);

    /**
     * @notice A grant would let one account hold both `DEFAULT_ADMIN_ROLE` and `ANCHORER_ROLE`.
     * @param account The account the role was to be granted to.
     * @param role The role being granted.
     */
    error DecisionAnchorV2RoleConflict(address account, bytes32 role);

    /**
     * @notice The anchorer already anchored an epoch under this id; the first root stays.
     * @param anchorer The anchoring account (`msg.sender`).
     * @param epochId The epoch id passed in.
     * @param storedRoot The root anchored earlier under `epochId` (compare it with yours: equal
     * means the earlier anchoring already did the job).
     */
    error DecisionAnchorV2EpochExists(address anchorer, bytes32 epochId, bytes32 storedRoot);

    /**
     * @notice An epoch was passed with a zero root, a zero batch count or a zero leaf count.
     * @param epochId The epoch id passed in.
     */
    error DecisionAnchorV2InvalidEpoch(bytes32 epochId);

    /**
     * @notice The anchorer already anchored this flagged root.
     * @param anchorer The anchoring account (`msg.sender`).
     * @param root The root passed in.
     * @param storedCount The count anchored with it earlier.
     */
    error DecisionAnchorV2FlaggedRootExists(address anchorer, bytes32 root, uint32 storedCount);

    /**
     * @notice A flagged root was passed as zero, or with a zero count.
     * @param root The root passed in.
     * @param count The count passed in.
     */
    error DecisionAnchorV2InvalidFlaggedRoot(bytes32 root, uint32 count);

    /**
     * @notice A model hash was already registered.
     * @param modelHash The model hash passed in.
     */
    error DecisionAnchorV2ModelExists(bytes32 modelHash);

    /**
     * @notice A zero model hash was passed to {registerModel}.
     * @param modelHash The model hash passed in (always zero).
     */
    error DecisionAnchorV2InvalidModel(bytes32 modelHash);

    /**
     * @notice An epoch root was anchored.
     * @param anchorer The anchoring account, whose namespace holds the epoch.
     * @param epochId The epoch id (derived off chain from the instance id and a sequence number).
     * @param root The root of the epoch's entry tree.
     * @param batchCount Number of batch entries in the epoch.
     * @param leafCount Number of decisions over all the epoch's batches.
     */
    event EpochAnchored(
        address indexed anchorer, bytes32 indexed epochId, bytes32 indexed root, uint32 batchCount, uint64 leafCount
    );

    /**
     * @notice A flagged tree's root was anchored.
     * @param anchorer The anchoring account, whose namespace holds the root.
     * @param root The root of the flagged tree.
     * @param count Number of flagged decisions in the tree.
     */
    event FlaggedRootAnchored(address indexed anchorer, bytes32 indexed root, uint32 count);

    /**
     * @notice A model was registered.
     * @param modelHash The model's hash.
     * @param registrant The account that registered it.
     * @param metadataURI Where the model's metadata lives.
     */
    event ModelRegistered(bytes32 indexed modelHash, address indexed registrant, string metadataURI);

    /**
     * @notice Deploys the anchor with each role given to its own account.
     * @dev Reverts with {DecisionAnchorV2InvalidRoleHolders} when any address is zero or two of
     * them are equal: the anchoring hot key must never administer roles, and a registrar key
     * that could anchor (or the reverse) would widen what one stolen key can do. Emits
     * {IAccessControl-RoleGranted} three times.
     * @param admin Account that administers roles and pausing (`DEFAULT_ADMIN_ROLE`).
     * @param anchorer First account allowed to anchor (`ANCHORER_ROLE`).
     * @param registrar First account allowed to register models (`MODEL_REGISTRAR_ROLE`).
     */
    constructor(address admin, address anchorer, address registrar) {
        if (
            admin == address(0) || anchorer == address(0) || registrar == address(0) || admin == anchorer
                || admin == registrar || anchorer == registrar
        ) revert DecisionAnchorV2InvalidRoleHolders(admin, anchorer, registrar);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHORER_ROLE, anchorer);
        _grantRole(MODEL_REGISTRAR_ROLE, registrar);
    }

    /**
     * @notice Anchors the root of one epoch under the caller's namespace.
     * @dev Requires `ANCHORER_ROLE` and not paused. Emits {EpochAnchored}. Reverts with
     * {DecisionAnchorV2InvalidEpoch} when `root`, `batchCount` or `leafCount` is zero, and with
     * {DecisionAnchorV2EpochExists} when the caller anchored `epochId` before, even with the
     * same root: callers retrying after an unknown outcome read {epochOf} and treat an equal
     * stored root as success. Another anchorer's epoch under the same id does not interfere.
     * @param epochId Deterministic id of the epoch (`keccak256(abi.encode(keccak256("claimtrail-epoch-v2"), instanceId, uint64 sequence))`).
     * @param root StandardMerkleTree root over the epoch's batch entries.
     * @param batchCount Number of batch entries (informational; not checked against the tree,
     * which the contract never sees).
     * @param leafCount Number of decisions over all batches (informational, likewise).
     */
    function anchorEpoch(bytes32 epochId, bytes32 root, uint32 batchCount, uint64 leafCount)
        external
        onlyRole(ANCHORER_ROLE)
        whenNotPaused
    {
        if (root == bytes32(0) || batchCount == 0 || leafCount == 0) revert DecisionAnchorV2InvalidEpoch(epochId);
        Epoch storage epoch = _epochs[msg.sender][epochId];
        bytes32 storedRoot = epoch.root;
        if (storedRoot != bytes32(0)) revert DecisionAnchorV2EpochExists(msg.sender, epochId, storedRoot);
        epoch.root = root;
        epoch.batchCount = batchCount;
        epoch.leafCount = leafCount;
        epoch.anchoredAt = uint64(block.timestamp);
        epoch.anchoredBlock = uint64(block.number);
        emit EpochAnchored(msg.sender, epochId, root, batchCount, leafCount);
    }

    /**
     * @notice Anchors the root of a flagged tree (flagged decisions' v2 leaves, in decision-id
     * order) under the caller's namespace, recording the block.
     * @dev Requires `ANCHORER_ROLE` and not paused. Emits {FlaggedRootAnchored}. Reverts with
     * {DecisionAnchorV2InvalidFlaggedRoot} when `root` or `count` is zero, and with
     * {DecisionAnchorV2FlaggedRootExists} when the caller anchored `root` before.
     * @param root StandardMerkleTree root over the flagged decisions' leaves.
     * @param count Number of flagged decisions in the tree (informational; not checked).
     */
    function anchorFlaggedRoot(bytes32 root, uint32 count) external onlyRole(ANCHORER_ROLE) whenNotPaused {
        if (root == bytes32(0) || count == 0) revert DecisionAnchorV2InvalidFlaggedRoot(root, count);
        FlaggedRoot storage flagged = _flaggedRoots[msg.sender][root];
        uint32 storedCount = flagged.count;
        if (storedCount != 0) revert DecisionAnchorV2FlaggedRootExists(msg.sender, root, storedCount);
        flagged.count = count;
        flagged.anchoredBlock = uint64(block.number);
        emit FlaggedRootAnchored(msg.sender, root, count);
    }

    /**
     * @notice Registers a scoring model's hash so decisions can name the exact model that made
     * them. Models are global (not per anchorer): a model hash names the same artifacts whoever
     * registers it.
     * @dev Requires `MODEL_REGISTRAR_ROLE` and not paused. Emits {ModelRegistered}. Reverts with
     * {DecisionAnchorV2InvalidModel} for a zero hash and {DecisionAnchorV2ModelExists} when the
     * hash was registered before.
     * @param modelHash Hash of the model artifacts (computed off chain).
     * @param metadataURI Where the model's metadata lives; stored as given.
     */
    function registerModel(bytes32 modelHash, string calldata metadataURI)
        external
        onlyRole(MODEL_REGISTRAR_ROLE)
        whenNotPaused
    {
        if (modelHash == bytes32(0)) revert DecisionAnchorV2InvalidModel(modelHash);
        Model storage model = _models[modelHash];
        if (model.registrant != address(0)) revert DecisionAnchorV2ModelExists(modelHash);
        model.registrant = msg.sender;
        model.registeredAt = uint64(block.timestamp);
        model.metadataURI = metadataURI;
        emit ModelRegistered(modelHash, msg.sender, metadataURI);
    }

    /**
     * @notice Stops every write ({anchorEpoch}, {anchorFlaggedRoot}, {registerModel}) until
     * {unpause}. Views keep working.
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
     * @notice Returns an epoch anchored by `anchorer`. All fields are zero when `anchorer` never
     * anchored `epochId` (a zero `root` is the test: anchored roots are never zero).
     * @param anchorer The anchoring account whose namespace to read.
     * @param epochId The epoch id.
     * @return root The root of the epoch's entry tree.
     * @return batchCount Number of batch entries in the epoch.
     * @return leafCount Number of decisions over all the epoch's batches.
     * @return anchoredAt `block.timestamp` of the anchoring block (seconds).
     * @return anchoredBlock `block.number` of the anchoring block.
     */
    function epochOf(address anchorer, bytes32 epochId)
        external
        view
        returns (bytes32 root, uint32 batchCount, uint64 leafCount, uint64 anchoredAt, uint64 anchoredBlock)
    {
        Epoch storage epoch = _epochs[anchorer][epochId];
        return (epoch.root, epoch.batchCount, epoch.leafCount, epoch.anchoredAt, epoch.anchoredBlock);
    }

    /**
     * @notice Returns a flagged root anchored by `anchorer`. Both fields are zero when
     * `anchorer` never anchored `root` (a zero `count` is the test).
     * @param anchorer The anchoring account whose namespace to read.
     * @param root The flagged tree's root.
     * @return count Number of flagged decisions in the tree.
     * @return anchoredBlock `block.number` of the anchoring block.
     */
    function flaggedRootOf(address anchorer, bytes32 root)
        external
        view
        returns (uint32 count, uint64 anchoredBlock)
    {
        FlaggedRoot storage flagged = _flaggedRoots[anchorer][root];
        return (flagged.count, flagged.anchoredBlock);
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
     * @notice The `claimtrail-leaf-v2` leaf of a decision: the StandardMerkleTree leaf hash of
     * `(LEAF_DOMAIN, v.instanceId, v.decisionId, v.claimCommitment, v.scoreMicros, v.outcome,
     * v.modelHash, v.reasonsHash, v.decidedAtMs, v.logTopicHash, v.logPartition, v.logOffset)`
     * with types `(bytes32, bytes32, bytes32, bytes32, uint32, uint8, bytes32, bytes32, uint64,
     * bytes32, uint32, uint64)`.
     * @param v The decision's values.
     * @return The leaf, `keccak256(bytes.concat(keccak256(abi.encode(...))))`.
     */
    function decisionLeaf(DecisionValues calldata v) external pure returns (bytes32) {
        return _decisionLeaf(v);
    }

    /**
     * @notice The `claimtrail-epoch-entry-v2` leaf of a batch entry: the StandardMerkleTree leaf
     * hash of `(ENTRY_DOMAIN, instanceId, e.batchId, e.batchRoot, e.leafCount, e.logTopicHash,
     * e.logPartition, e.firstOffset, e.lastOffset)` with types `(bytes32, bytes32, bytes32,
     * bytes32, uint32, bytes32, uint32, uint64, uint64)`.
     * @param instanceId The installation whose epoch holds the entry.
     * @param e The batch entry.
     * @return The leaf, `keccak256(bytes.concat(keccak256(abi.encode(...))))`.
     */
    function entryLeaf(bytes32 instanceId, BatchEntry calldata e) external pure returns (bytes32) {
        return _entryLeaf(instanceId, e);
    }

    /**
     * @notice The v2 batch id of a contiguous offset range of one partition:
     * `keccak256(abi.encode(BATCH_DOMAIN, instanceId, topicHash, partition, first, last))`.
     * @param instanceId The installation that made the batch.
     * @param topicHash keccak256 of the `decisions` topic name.
     * @param partition The partition.
     * @param first First offset of the range (inclusive).
     * @param last Last offset of the range (inclusive).
     * @return The batch id.
     */
    function batchIdOf(bytes32 instanceId, bytes32 topicHash, uint32 partition, uint64 first, uint64 last)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(BATCH_DOMAIN, instanceId, topicHash, partition, first, last));
    }

    /**
     * @notice Returns true when the decision with values `v` is committed in epoch `epochId` as
     * anchored by `anchorer`: the epoch exists in `anchorer`'s namespace; the decision's log
     * position lies in the entry's range (same topic hash, same partition,
     * `e.firstOffset <= v.logOffset <= e.lastOffset`); `e.batchId` derives from that range and
     * `v.instanceId` ({batchIdOf}); `proof` leads from {decisionLeaf}`(v)` to `e.batchRoot`; and
     * `epochProof` leads from {entryLeaf}`(v.instanceId, e)` to the epoch's root. Returns false
     * otherwise, never reverts on a failed check.
     *
     * WARNING: A true answer says that `anchorer` committed this decision on this deployment,
     * nothing more. Anyone the admin grants `ANCHORER_ROLE` can commit anything under their own
     * address, and anyone can deploy a contract answering true. The caller must take the chain,
     * this contract's address and `anchorer` from its own trust anchor (the insurer's published
     * trust file or its own configuration), never from the bundle or party being checked.
     * The leaves are recomputed here from the values and double-hashed, so no internal node or
     * root of any tree can be passed off as a decision or an entry: a leaf is `keccak256` of 32
     * bytes, an internal node `keccak256` of 64 bytes, and equality would be a keccak256
     * collision. The domain words keep a decision leaf, an entry leaf and a v1 leaf apart.
     * @param anchorer The anchoring account the caller trusts.
     * @param epochId The epoch id.
     * @param v The decision's values.
     * @param proof Sibling hashes from the decision's leaf up to the batch root
     * (`StandardMerkleTree.getProof` on the batch tree).
     * @param e The entry of the decision's batch in the epoch.
     * @param epochProof Sibling hashes from the entry's leaf up to the epoch root
     * (`StandardMerkleTree.getProof` on the epoch tree; empty for a one-batch epoch).
     * @return True when every check above holds.
     */
    function verifyDecisionValues(
        address anchorer,
        bytes32 epochId,
        DecisionValues calldata v,
        bytes32[] calldata proof,
        BatchEntry calldata e,
        bytes32[] calldata epochProof
    ) external view returns (bool) {
        bytes32 epochRoot = _epochs[anchorer][epochId].root;
        if (epochRoot == bytes32(0)) return false;
        if (v.logTopicHash != e.logTopicHash || v.logPartition != e.logPartition) return false;
        if (v.logOffset < e.firstOffset || v.logOffset > e.lastOffset) return false;
        if (e.batchId != batchIdOf(v.instanceId, e.logTopicHash, e.logPartition, e.firstOffset, e.lastOffset)) {
            return false;
        }
        if (MerkleProof.processProofCalldata(proof, _decisionLeaf(v)) != e.batchRoot) return false;
        return MerkleProof.processProofCalldata(epochProof, _entryLeaf(v.instanceId, e)) == epochRoot;
    }

    /**
     * @notice Returns true when `anchorer` anchored the flagged root `root` and `proof` leads
     * from {decisionLeaf}`(v)` to it. Returns false otherwise, never reverts on a failed check.
     *
     * WARNING: As for {verifyDecisionValues}: the caller must take the chain, this contract's
     * address and `anchorer` from its own trust anchor, never from the bundle or party being
     * checked. A flagged root is an early anchor; the decision's epoch proof is the complete one.
     * @param anchorer The anchoring account the caller trusts.
     * @param root The flagged tree's root.
     * @param v The decision's values.
     * @param proof Sibling hashes from the decision's leaf up to `root`.
     * @return True when the root is anchored by `anchorer` and the proof leads to it.
     */
    function verifyFlaggedValues(address anchorer, bytes32 root, DecisionValues calldata v, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (_flaggedRoots[anchorer][root].count == 0) return false;
        return MerkleProof.processProofCalldata(proof, _decisionLeaf(v)) == root;
    }

    /**
     * @dev Refuses any grant that would leave one account holding both `DEFAULT_ADMIN_ROLE` and
     * `ANCHORER_ROLE` (reverts with {DecisionAnchorV2RoleConflict}), so the constructor's
     * separation cannot be undone later by a grant.
     */
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (
            (role == ANCHORER_ROLE && hasRole(DEFAULT_ADMIN_ROLE, account))
                || (role == DEFAULT_ADMIN_ROLE && hasRole(ANCHORER_ROLE, account))
        ) revert DecisionAnchorV2RoleConflict(account, role);
        return super._grantRole(role, account);
    }

    /**
     * @dev The v2 decision leaf. `v` is a struct of static fields only, and the ABI encodes a
     * static struct in place, word by word: `abi.encode(LEAF_DOMAIN, v)` is byte for byte
     * `abi.encode(LEAF_DOMAIN, v.instanceId, ..., v.logOffset)` (12 words), without twelve
     * values on the stack.
     */
    function _decisionLeaf(DecisionValues calldata v) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(LEAF_DOMAIN, v))));
    }

    /// @dev The v2 entry leaf; `abi.encode(ENTRY_DOMAIN, instanceId, e)` is the flat 9-word encoding, as above.
    function _entryLeaf(bytes32 instanceId, BatchEntry calldata e) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(ENTRY_DOMAIN, instanceId, e))));
    }
}
