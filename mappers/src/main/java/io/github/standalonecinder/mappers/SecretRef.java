package io.github.standalonecinder.mappers;

/** A Secret by namespace and name, e.g. one to remove when its PV is deleted. */
public record SecretRef(String namespace, String name) {
  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
