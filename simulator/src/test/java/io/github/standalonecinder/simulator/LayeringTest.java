package io.github.standalonecinder.simulator;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The dependency directions of the build (root pom), on this module's compiled main classes: the simulator stands in
 * for a real Cinder and a real kube-controller-manager, so it uses nothing of the product, and the product's tests
 * can use it without a cycle.
 */
@AnalyzeClasses(packages = "io.github.standalonecinder.simulator",
    importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
  @ArchTest
  static final ArchRule simulatorUsesNothingOfTheProduct = noClasses().should()
      .dependOnClassesThat(resideInAPackage("io.github.standalonecinder..")
          .and(not(resideInAPackage("io.github.standalonecinder.simulator.."))))
      .as("simulator depends on nothing else of ours (not mappers, provisioner, cmd)")
      .because("it stands in for a real Cinder; cmd -> simulator, and provisioner uses it in tests only");
}
