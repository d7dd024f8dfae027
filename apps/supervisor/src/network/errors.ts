// One error class per networking condition, each in the category (gRPC status) that fits it.
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
} from '@berth/service-kit';

/** No network has that name (or id). */
export class NetworkNotFoundError extends NotFoundError {}

/** A network with that name exists already (the predefined bridge, host and none included). */
export class NetworkExistsError extends AlreadyExistsError {}

/** A network name, subnet, gateway or bridge name that cannot be used. */
export class InvalidNetworkConfigError extends InvalidArgumentError {}

/** The subnet asked for overlaps the subnet of another berth network. */
export class SubnetOverlapError extends InvalidArgumentError {}

/** The network still has containers attached. */
export class NetworkInUseError extends FailedPreconditionError {}

/** The predefined networks (bridge, host, none) cannot be removed. */
export class PredefinedNetworkError extends FailedPreconditionError {}

/** A -p mapping that is malformed (port out of range, unknown protocol, bad IP). */
export class InvalidPortMappingError extends InvalidArgumentError {}

/** The host port asked for is taken on the host or by another berth container. */
export class PortInUseError extends FailedPreconditionError {}

/** The container is already attached to a network; tear it down first. */
export class AlreadyAttachedError extends FailedPreconditionError {}

/** connect() for a container whose setup is not waiting for a runtime-made namespace. */
export class NotConnectableError extends FailedPreconditionError {}

/** Networks.Connect of a container to a network it is on already. */
export class AlreadyOnNetworkError extends AlreadyExistsError {}

/** Networks.Disconnect of a container from a network it is not on. */
export class NotOnNetworkError extends NotFoundError {}

/** Connect or Disconnect that host, none or a container's own first network rule out. */
export class NetworkNotJoinableError extends FailedPreconditionError {}

/** An --ip or --mac-address that is malformed or not usable on the network. */
export class InvalidAddressError extends InvalidArgumentError {}

/** An --ip another container on the network holds. */
export class AddressInUseError extends AlreadyExistsError {}

/** A CNI plugin binary is missing from the plugin directory. */
export class CniPluginMissingError extends FailedPreconditionError {}

/** A CNI plugin failed: it printed a CNI error {code, msg} or exited non-zero. */
export class CniPluginError extends InternalError {
  constructor(
    readonly plugin: string,
    readonly command: string,
    /** CNI error code (spec: 1-99 well-known, 100+ plugin-specific); 0 when the plugin printed no error JSON. */
    readonly cniCode: number,
    readonly cniMessage: string,
    readonly details = '',
  ) {
    super(`CNI plugin ${plugin} ${command} failed (code ${cniCode}): ${cniMessage}${details ? ` (${details})` : ''}`);
  }
}

/** The `ip netns` command failed. */
export class NetnsError extends InternalError {}

/** iptables-save/iptables-restore failed while making or removing a bridge network's rules. */
export class NetworkRulesError extends InternalError {}
