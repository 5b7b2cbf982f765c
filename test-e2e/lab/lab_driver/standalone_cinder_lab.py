# Test-only Cinder volume driver for the standalone-cinder lab.
#
# Why: the lab kernel has no device-mapper, so Cinder's LVM driver cannot
# create volumes, and cinder.tests.fake_driver returns connection info without
# a real target. This driver keeps each volume as a sparse file under
# ``lab_volumes_dir`` and exports it through Cinder's *real* target helper
# (``target_helper = tgtadm``, ``use_chap_auth = True``), exactly the way
# cinder/volume/drivers/lvm.py does (``self.target_driver.create_export`` ...).
# So os-initialize_connection / attachments return a real target_portal,
# target_iqn, target_lun and CHAP credentials that a userspace initiator
# (libiscsi) can log in to.
#
# Loaded by cinder-volume with
#   volume_driver = standalone_cinder_lab.LabFileISCSIDriver
# from a directory that up.sh puts on PYTHONPATH. Never used in production.

import os
import subprocess

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import importutils

from cinder import exception
from cinder.volume import driver
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)

lab_opts = [
    cfg.StrOpt('lab_volumes_dir',
               default='/var/tmp/standalone-cinder-lab/volumes',
               help='Directory that holds one sparse file per volume.'),
    cfg.IntOpt('lab_capacity_gb', default=1000,
               help='Capacity reported to the scheduler (sparse files).'),
]
GiB = 1024 ** 3


class LabFileISCSIDriver(driver.VolumeDriver):
    """Sparse-file volumes exported by Cinder's tgt target helper."""

    VERSION = '1.0.0'
    # Keep Cinder's third-party CI nag out of the logs.
    CI_WIKI_NAME = 'standalone-cinder-lab'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(lab_opts)
        self.backend_name = (
            self.configuration.safe_get('volume_backend_name') or 'lab')
        # Same has-a pattern as the LVM driver: the target driver owns the
        # data-transport side (tgt targets, CHAP, connection properties).
        target_driver = self.target_mapping[
            self.configuration.safe_get('target_helper')]
        self.target_driver = importutils.import_object(
            target_driver, configuration=self.configuration,
            executor=self._execute)
        self.protocol = self.target_driver.protocol

    # ---- setup -----------------------------------------------------------
    def _dir(self):
        return self.configuration.safe_get('lab_volumes_dir')

    def do_setup(self, context):
        os.makedirs(self._dir(), exist_ok=True)

    def check_for_setup_error(self):
        if not os.path.isdir(self._dir()):
            raise RuntimeError('lab_volumes_dir %s missing' % self._dir())

    def _path(self, name):
        return os.path.join(self._dir(), name)

    def local_path(self, volume):
        return self._path(volume['name'])

    # ---- volumes ---------------------------------------------------------
    @staticmethod
    def _truncate(path, size_gb):
        with open(path, 'ab') as f:  # never shrinks existing data
            f.truncate(int(size_gb) * GiB)

    @staticmethod
    def _sparse_copy(src, dst):
        subprocess.check_call(['cp', '--sparse=always', src, dst])

    def create_volume(self, volume):
        self._truncate(self.local_path(volume), volume['size'])
        LOG.info('lab: created %s (%s GiB)', volume['name'], volume['size'])

    def delete_volume(self, volume):
        path = self.local_path(volume)
        if os.path.exists(path):
            os.unlink(path)

    def extend_volume(self, volume, new_size):
        self._truncate(self.local_path(volume), new_size)
        # Like LVM: let tgt re-read the LUN size of a live target.
        self.target_driver.extend_target(volume)

    def retype(self, context, volume, new_type, diff, host):
        # A file is a file whatever its type: retyping within this backend changes
        # nothing on disk (the LVM driver's own retype needs a volume group).
        return True, None

    def create_cloned_volume(self, volume, src_vref):
        self._sparse_copy(self.local_path(src_vref), self.local_path(volume))
        self._truncate(self.local_path(volume), volume['size'])

    def create_snapshot(self, snapshot):
        self._sparse_copy(self._path(snapshot.volume_name),
                          self._path(snapshot['name']))

    def delete_snapshot(self, snapshot):
        path = self._path(snapshot['name'])
        if os.path.exists(path):
            os.unlink(path)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._sparse_copy(self._path(snapshot['name']),
                          self.local_path(volume))
        self._truncate(self.local_path(volume), volume['size'])

    # ---- stats -----------------------------------------------------------
    def _update_volume_stats(self):
        total = self.configuration.safe_get('lab_capacity_gb')
        used = 0
        for entry in os.scandir(self._dir()):
            if entry.is_file():
                used += entry.stat().st_size
        self._stats = {
            'volume_backend_name': self.backend_name,
            'vendor_name': 'standalone-cinder lab',
            'driver_version': self.VERSION,
            'storage_protocol': self.protocol,
            'pools': [{
                'pool_name': self.backend_name,
                'total_capacity_gb': total,
                'free_capacity_gb': max(total - used / GiB, 0),
                'provisioned_capacity_gb': used / GiB,
                'reserved_percentage': 0,
                'max_over_subscription_ratio': 20.0,
                'thin_provisioning_support': True,
                'thick_provisioning_support': False,
                'QoS_support': False,
                'multiattach': True,
                'backend_state': 'up',
            }],
            'shared_targets': False,
            'sparse_copy_volume': True,
        }

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    # ---- backups (LAB_BACKUP=1: cinder-backup on this host) ---------------
    # cinder-backup reads a snapshot and writes a volume being restored through
    # os-brick on this very host, which has no kernel iSCSI initiator: the lab
    # hands it the files themselves (os-brick's "local" connector). Only those
    # two ever take this path: nothing else attaches a snapshot, and Cinder
    # attaches no volume that is still being created or restored.
    RESTORE_STATUSES = ('creating', 'restoring-backup')

    def backup_use_temp_snapshot(self):
        return True  # back up a snapshot as it is, no temporary volume

    def create_export_snapshot(self, context, snapshot, connector):
        return None

    def remove_export_snapshot(self, context, snapshot):
        return None

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {'driver_volume_type': 'local',
                'data': {'device_path': self._path(snapshot['name'])}}

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        return None

    def _restoring(self, volume):
        return volume['status'] in self.RESTORE_STATUSES

    # ---- data path: delegate to the tgt target helper (as lvm.py) --------
    def create_export(self, context, volume, connector):
        if self._restoring(volume):
            return None
        info = self.target_driver.create_export(
            context, volume, self.local_path(volume))
        return {'provider_location': info['location'],
                'provider_auth': info['auth']}

    def ensure_export(self, context, volume):
        return self.target_driver.ensure_export(
            context, volume, self.local_path(volume))

    def remove_export(self, context, volume):
        if self._restoring(volume):
            return
        self.target_driver.remove_export(context, volume)

    def initialize_connection(self, volume, connector):
        if self._restoring(volume):
            return {'driver_volume_type': 'local',
                    'data': {'device_path': self.local_path(volume)}}
        return self.target_driver.initialize_connection(volume, connector)

    def validate_connector(self, connector):
        return self.target_driver.validate_connector(connector)

    def terminate_connection(self, volume, connector, **kwargs):
        if self._restoring(volume):
            return False
        # Keep the export while other attachments of a multiattach volume
        # from the same initiator remain (same rule as lvm.py).
        attachments = volume.volume_attachment
        if volume.multiattach:
            if sum(1 for a in attachments if a.connector and
                   a.connector['initiator'] == connector['initiator']) > 1:
                return True
        self.target_driver.terminate_connection(volume, connector, **kwargs)
        return len(attachments) > 1

    # ---- image <-> volume (plain file copies; no Glance in the lab) -------
    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        raise NotImplementedError('no image service in the lab')

    def copy_image_to_volume(self, context, volume, image_service, image_id):
        raise NotImplementedError('no image service in the lab')

    def clone_image(self, context, volume, image_location, image_meta,
                    image_service):
        return None, False



class _SiteConfiguration(object):
    """The backend's configuration as one replication site sees it: a few
    target options (portal address, IQN prefix) replaced, the rest shared."""

    def __init__(self, base, overrides):
        self._base = base
        self._overrides = overrides

    def __getattr__(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._base, name)

    def safe_get(self, name):
        if name in self._overrides:
            return self._overrides[name]
        return self._base.safe_get(name)

    def get(self, name, default=None):
        if name in self._overrides:
            return self._overrides[name]
        return self._base.get(name, default)


class LabReplicatedISCSIDriver(LabFileISCSIDriver):
    """LabFileISCSIDriver that "replicates" to a secondary site (LAB_REPLICATION=1).

    The secondary site is the same sparse file exported by the same tgtd under
    another IQN prefix (``iqn.2010-10.org.openstack.secondary:``), on a second
    portal (``portal_ip`` of ``replication_device``, e.g. 127.0.0.2, same port) and
    with a new CHAP pair per volume. ``failover_host`` removes the active site's
    targets and hands Cinder the new CHAP pair; the next export (a new
    attachment) creates the other site's target, as Cinder's replication guide
    says: existing attachments keep the old connection. Failback
    (``backend_id`` "default") does the same the other way.
    """

    SECONDARY_PREFIX = 'iqn.2010-10.org.openstack.secondary:'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        devices = self.configuration.safe_get('replication_device') or []
        device = devices[0] if devices else {}
        self.secondary_id = device.get('backend_id', 'secondary')
        ip = device.get('portal_ip', '127.0.0.2')
        port = self.configuration.safe_get('target_port') or 3260
        self.secondary_portal = (ip, int(port))
        self.primary_target = self.target_driver
        self.secondary_target = importutils.import_object(
            self.target_mapping[self.configuration.safe_get('target_helper')],
            configuration=_SiteConfiguration(self.configuration, {
                'target_ip_address': ip,
                'target_port': int(port),
                'target_prefix': self.SECONDARY_PREFIX,
            }),
            executor=self._execute)
        self.active_backend_id = kwargs.get('active_backend_id') or None
        if self.active_backend_id not in (None, 'default'):
            self.target_driver = self.secondary_target

    def do_setup(self, context):
        super().do_setup(context)
        if self.target_driver is self.secondary_target:
            self._secondary_portal(True)

    def _secondary_portal(self, present):
        ip, port = self.secondary_portal
        op = 'new' if present else 'delete'
        # tgtd takes and drops a portal at run time; loopback only.
        rc = subprocess.call(['tgtadm', '--lld', 'iscsi', '--op', op, '--mode',
                              'portal', '--param', 'portal=%s:%d' % (ip, port)])
        LOG.info('lab: tgtd portal %s:%d %s (rc %s)', ip, port, op, rc)

    def create_volume(self, volume):
        super().create_volume(volume)
        return {'replication_status': 'enabled'}

    def _update_volume_stats(self):
        super()._update_volume_stats()
        self._stats['replication_enabled'] = True
        self._stats['replication_targets'] = [self.secondary_id]
        self._stats['replication_count'] = 1
        self._stats['pools'][0]['replication_enabled'] = True

    def failover_host(self, context, volumes, secondary_id=None, groups=None):
        back = secondary_id == 'default'
        if back:
            if self.target_driver is self.primary_target:
                raise exception.InvalidReplicationTarget(
                    reason='not failed over')
            old, new, status = (self.secondary_target, self.primary_target,
                                'enabled')
        else:
            if secondary_id not in (None, self.secondary_id):
                raise exception.InvalidReplicationTarget(
                    reason='unknown target %s' % secondary_id)
            if self.target_driver is self.secondary_target:
                raise exception.InvalidReplicationTarget(
                    reason='already failed over')
            old, new, status = (self.primary_target, self.secondary_target,
                                'failed-over')
            self._secondary_portal(True)
        updates = []
        for volume in volumes:
            # The old site's target goes (a PV naming it fails to log in, as
            # after a site loss); the new site exports with a CHAP pair of its
            # own on the next attachment.
            old.remove_export(context, volume)
            auth = 'CHAP %s %s' % (volume_utils.generate_username(),
                                   volume_utils.generate_password())
            updates.append({'volume_id': volume['id'],
                            'updates': {'provider_location': None,
                                        'provider_auth': auth,
                                        'replication_status': status}})
        self.target_driver = new
        if back:
            self._secondary_portal(False)
        self.active_backend_id = None if back else self.secondary_id
        LOG.info('lab: failed %s to %s (%d volumes)',
                 'back' if back else 'over', secondary_id, len(updates))
        return (self.active_backend_id or 'default'), updates, []
