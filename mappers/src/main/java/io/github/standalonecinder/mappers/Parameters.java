package io.github.standalonecinder.mappers;

import java.util.Map;
import java.util.regex.Pattern;

/** StorageClass parameter checks shared by the mappers; messages follow one pattern for users. */
final class Parameters {
  /** Filesystem type every mapper passes through to the PV; absent leaves kubelet's default. */
  static final String FS_TYPE = "fsType";

  // Names like ext4, xfs, btrfs, vfat; kubelet passes the value to mkfs/mount as a type name.
  private static final Pattern FS_NAME = Pattern.compile("[a-z][a-z0-9_.-]{0,31}");

  private Parameters() {
  }

  static void validateFsType(Map<String, String> parameters) throws MappingException {
    String fsType = parameters.get(FS_TYPE);
    if (fsType != null && !FS_NAME.matcher(fsType).matches()) {
      throw invalid(FS_TYPE, "a filesystem name such as \"ext4\" or \"xfs\"", fsType);
    }
  }

  /** The parameter's value, or null when absent or blank. */
  static String value(Map<String, String> parameters, String name) {
    String v = parameters.get(name);
    return v == null || v.isBlank() ? null : v;
  }

  static MappingException invalid(String name, String expected, String value) {
    return new MappingException("StorageClass parameter \"" + name + "\" must be " + expected + ", got \""
        + value + "\"");
  }
}
