// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/**
 * @title FederationRegistry
 * @notice Append-only on-chain record of claimtrail's federated training (docs/federation.md):
 * for every secure-aggregation round, a digest binding its participants, the commitment (sha256)
 * to each masked update and the hash of the unmasked aggregate; and for every federated model,
 * its model hash with the digest over all its rounds. Only 32-byte digests and hashes come here:
 * no data of any insurer, no update, no weight.
 *
 * Records are keyed by the recording account (`msg.sender`, the federation's coordinator): a
 * coordinator writes only into its own namespace, so nobody can pre-empt or overwrite another
 * coordinator's federation. Each record is written at most once and never changed.
 *
 * WARNING: A record proves only that the account it is filed under wrote it on this deployment.
 * A verifier takes the chain id, this contract's address and the coordinator's address from its
 * own trust anchor (the consortium's published configuration, the command line), never from the
 * model bundle being checked.
 */
contract FederationRegistry {
    /// @notice A federated model as registered.
    struct ModelRecord {
        bytes32 federationId;
        bytes32 lineageDigest;
        uint32 roundCount;
        uint64 registeredAt;
    }

    /// @dev coordinator => federation id => round index => round digest.
    mapping(address => mapping(bytes32 => mapping(uint32 => bytes32))) private _rounds;
    /// @dev coordinator => federation id => rounds recorded so far (they are recorded in order).
    mapping(address => mapping(bytes32 => uint32)) private _roundCount;
    /// @dev coordinator => model hash => model record.
    mapping(address => mapping(bytes32 => ModelRecord)) private _models;

    /// @notice A round digest was zero (reserved for "absent").
    error FederationRegistryZeroDigest();
    /// @notice Rounds are recorded in order: `index` is not the next one, `expected` is.
    error FederationRegistryRoundOutOfOrder(bytes32 federationId, uint32 index, uint32 expected);
    /// @notice The model hash is already registered by this coordinator.
    error FederationRegistryModelExists(bytes32 modelHash);
    /// @notice The model cites `roundCount` rounds but only `recorded` are on chain.
    error FederationRegistryRoundsMissing(bytes32 federationId, uint32 roundCount, uint32 recorded);

    /**
     * @notice Emitted when a round is recorded.
     * @param coordinator The recording account.
     * @param federationId keccak256 of the federation's name.
     * @param index Round index within the federation, from 0.
     * @param roundDigest sha256 of the canonical round record (claimtrail-federation-round-v1).
     * @param aggregateHash sha256 of the unmasked aggregate.
     * @param commitments sha256 of each survivor's masked update, in survivor id order.
     */
    event RoundRecorded(address indexed coordinator, bytes32 indexed federationId, uint32 indexed index, bytes32 roundDigest, bytes32 aggregateHash, bytes32[] commitments);

    /**
     * @notice Emitted when a federated model is registered.
     * @param coordinator The registering account.
     * @param modelHash The model hash (sha256 of the bundle manifest), as decisions record it.
     * @param federationId keccak256 of the federation's name.
     * @param lineageDigest sha256 over the model's round digests in order.
     * @param roundCount Rounds the model was trained in.
     */
    event FederatedModelRegistered(address indexed coordinator, bytes32 indexed modelHash, bytes32 indexed federationId, bytes32 lineageDigest, uint32 roundCount);

    /**
     * @notice Records round `index` of `federationId` under the caller. Rounds go in order from 0.
     * @dev Reverts {FederationRegistryZeroDigest} for a zero digest and
     * {FederationRegistryRoundOutOfOrder} unless `index` is the next round.
     */
    function recordRound(bytes32 federationId, uint32 index, bytes32 roundDigest, bytes32 aggregateHash, bytes32[] calldata commitments) external {
        if (roundDigest == bytes32(0)) revert FederationRegistryZeroDigest();
        uint32 expected = _roundCount[msg.sender][federationId];
        if (index != expected) revert FederationRegistryRoundOutOfOrder(federationId, index, expected);
        _rounds[msg.sender][federationId][index] = roundDigest;
        _roundCount[msg.sender][federationId] = expected + 1;
        emit RoundRecorded(msg.sender, federationId, index, roundDigest, aggregateHash, commitments);
    }

    /**
     * @notice Registers a federated model under the caller, citing its first `roundCount` rounds.
     * @dev Reverts {FederationRegistryZeroDigest}, {FederationRegistryModelExists} or
     * {FederationRegistryRoundsMissing} when fewer rounds are recorded than cited.
     */
    function registerModel(bytes32 modelHash, bytes32 federationId, bytes32 lineageDigest, uint32 roundCount) external {
        if (modelHash == bytes32(0) || lineageDigest == bytes32(0)) revert FederationRegistryZeroDigest();
        if (_models[msg.sender][modelHash].registeredAt != 0) revert FederationRegistryModelExists(modelHash);
        uint32 recorded = _roundCount[msg.sender][federationId];
        if (roundCount == 0 || roundCount > recorded) revert FederationRegistryRoundsMissing(federationId, roundCount, recorded);
        _models[msg.sender][modelHash] = ModelRecord(federationId, lineageDigest, roundCount, uint64(block.timestamp));
        emit FederatedModelRegistered(msg.sender, modelHash, federationId, lineageDigest, roundCount);
    }

    /// @notice The digest of round `index` of `federationId` recorded by `coordinator` (zero when absent).
    function roundDigestOf(address coordinator, bytes32 federationId, uint32 index) external view returns (bytes32) {
        return _rounds[coordinator][federationId][index];
    }

    /// @notice How many rounds of `federationId` `coordinator` recorded.
    function roundCountOf(address coordinator, bytes32 federationId) external view returns (uint32) {
        return _roundCount[coordinator][federationId];
    }

    /// @notice The model record `coordinator` registered under `modelHash` (registeredAt zero when absent).
    function modelOf(address coordinator, bytes32 modelHash) external view returns (ModelRecord memory) {
        return _models[coordinator][modelHash];
    }
}
